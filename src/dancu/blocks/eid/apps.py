from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.eid"
    label = "eid"
    verbose_name = "Định danh điện tử / Electronic identification"
    default_auto_field = "django.db.models.BigAutoField"
