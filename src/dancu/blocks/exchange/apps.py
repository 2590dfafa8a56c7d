from django.apps import AppConfig


class Config(AppConfig):
    name = "dancu.blocks.exchange"
    label = "exchange"
    verbose_name = "Trục liên thông dữ liệu / Data exchange gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The registry publishes its changes through its own hook; the exchange turns them into
        # change notifications for subscribed members (ADR 0010 §9). The registry imports nothing
        # of the exchange.
        from dancu.blocks.exchange.notifications import on_registry_change
        from dancu.blocks.registry import events

        events.connect(on_registry_change)
