from django.apps import AppConfig


class KioskConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dancu.apps.kiosk"
    label = "kiosk"
    verbose_name = "Ki-ốt dịch vụ công / Public service kiosks"
