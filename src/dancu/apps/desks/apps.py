from django.apps import AppConfig


class DesksConfig(AppConfig):
    name = "dancu.apps.desks"
    label = "desks"
    verbose_name = "Front-desk verification"
