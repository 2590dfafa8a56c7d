from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.apps.exchange_admin"
    label = "exchange_admin"
    verbose_name = "Quản trị trục liên thông / Exchange administration"
    default_auto_field = "django.db.models.BigAutoField"
