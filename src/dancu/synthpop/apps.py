from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.synthpop"
    label = "synthpop"
    verbose_name = "Dân số tổng hợp / Synthetic population"
