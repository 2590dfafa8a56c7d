from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.apps.guardianship"
    label = "guardianship_desk"
    verbose_name = "Giám hộ, hạn chế quyền cha mẹ / Guardianship desk"
    default_auto_field = "django.db.models.BigAutoField"
