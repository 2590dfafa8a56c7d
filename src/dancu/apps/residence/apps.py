from django.apps import AppConfig


class ResidenceConfig(AppConfig):
    name = "dancu.apps.residence"
    label = "residence"
    verbose_name = "Residence notification"
