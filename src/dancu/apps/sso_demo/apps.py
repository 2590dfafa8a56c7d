from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.apps.sso_demo"
    label = "sso_demo"
    verbose_name = "Ứng dụng mẫu đăng nhập SSO / Demo relying parties"
    default_auto_field = "django.db.models.BigAutoField"
