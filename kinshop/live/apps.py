from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "kinshop.live"
    label = "live"
    verbose_name = _("Live rooms")

    def ready(self) -> None:
        from kinshop.live import services
        from kinshop.live.hub import hub

        hub.set_peak_writer(services.record_peak_from_hub)
        hub.set_order_announcer(services.announce_paid_orders_from_hub)
