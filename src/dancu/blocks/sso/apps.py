from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.sso"
    label = "sso"
    verbose_name = "Đăng nhập một lần / Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"
