from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.exchange"
    label = "exchange"
    verbose_name = "Trục liên thông dữ liệu / Data exchange gateway"
    default_auto_field = "django.db.models.BigAutoField"
