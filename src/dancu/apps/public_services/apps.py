from django.apps import AppConfig


class PublicServicesConfig(AppConfig):
    name = "dancu.apps.public_services"
    label = "public_services"
    verbose_name = "Dịch vụ công trực tuyến / Online public services"

    def ready(self) -> None:
        from dancu.apps.public_services import (
            payments,  # noqa: F401 — registers its system check
            sector_registers,
        )

        sector_registers.register_handlers()  # the stand-in registers, served through the gateway
