from django.apps import AppConfig


class GatewayClientConfig(AppConfig):
    name = "dancu.apps.gateway_client"
    label = "gateway_client"
    verbose_name = "Máy khách trục liên thông của các ứng dụng / Applications' gateway clients"

    def ready(self) -> None:
        from dancu.apps.gateway_client import feedback

        feedback.register_handler()
