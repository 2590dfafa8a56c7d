from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.identity"
    label = "identity"
    verbose_name = "Giấy tờ tùy thân / Identity documents"
    default_auto_field = "django.db.models.BigAutoField"
