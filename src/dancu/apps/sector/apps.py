from django.apps import AppConfig


class SectorConfig(AppConfig):
    name = "dancu.apps.sector"
    label = "sector"
    verbose_name = "Số hóa dữ liệu chuyên ngành / Sector digitisation"
