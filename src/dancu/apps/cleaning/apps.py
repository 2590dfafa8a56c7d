from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.apps.cleaning"
    label = "cleaning"
    verbose_name = "Làm sạch dữ liệu / Data cleaning"
    default_auto_field = "django.db.models.BigAutoField"
