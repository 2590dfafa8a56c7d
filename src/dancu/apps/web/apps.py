from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.apps.web"
    label = "web"
    verbose_name = "Trang chung / Web"
    default_auto_field = "django.db.models.BigAutoField"
