from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.adminunits"
    label = "adminunits"
    verbose_name = "Đơn vị hành chính / Administrative units"
    default_auto_field = "django.db.models.BigAutoField"
