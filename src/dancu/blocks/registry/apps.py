from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.registry"
    label = "registry"
    verbose_name = "Dân cư / Population registry"
    default_auto_field = "django.db.models.BigAutoField"
