from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.organisations"
    label = "organisations"
    verbose_name = "Tổ chức / Organisations"
    default_auto_field = "django.db.models.BigAutoField"
