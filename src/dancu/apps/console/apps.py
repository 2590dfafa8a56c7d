from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.apps.console"
    label = "console"
    verbose_name = "Bàn làm việc cán bộ / Staff console"
    default_auto_field = "django.db.models.BigAutoField"
