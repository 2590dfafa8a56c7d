from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.apps.eiddesk"
    label = "eiddesk"
    verbose_name = "Bàn định danh điện tử / E-identification desk"
    default_auto_field = "django.db.models.BigAutoField"
