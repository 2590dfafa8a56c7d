from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.audit"
    label = "audit"
    verbose_name = "Nhật ký truy cập / Audit"
    default_auto_field = "django.db.models.BigAutoField"
