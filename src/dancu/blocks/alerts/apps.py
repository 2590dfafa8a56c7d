from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.alerts"
    label = "alerts"
    verbose_name = "Danh sách cảnh báo / Police alert list"
    default_auto_field = "django.db.models.BigAutoField"
