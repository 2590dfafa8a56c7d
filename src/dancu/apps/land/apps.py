from django.apps import AppConfig


class LandConfig(AppConfig):
    name = "dancu.apps.land"
    label = "land"
    verbose_name = "Người sử dụng đất, chủ sở hữu nhà / Land users and home owners"
