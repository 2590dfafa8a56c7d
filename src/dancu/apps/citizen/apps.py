from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.apps.citizen"
    label = "citizen"
    verbose_name = "Công dân / Citizen"
    default_auto_field = "django.db.models.BigAutoField"
