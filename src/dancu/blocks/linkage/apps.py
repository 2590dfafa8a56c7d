from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.linkage"
    label = "linkage"
    verbose_name = "Làm sạch dữ liệu / Record linkage"
    default_auto_field = "django.db.models.BigAutoField"
