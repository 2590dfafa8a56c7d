from django.apps import AppConfig


class DrivingConfig(AppConfig):
    name = "dancu.apps.driving"
    label = "driving"
    verbose_name = "Driving schools and test centres"
