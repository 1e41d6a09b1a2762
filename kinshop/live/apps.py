from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "kinshop.live"
    label = "live"
    verbose_name = _("Live rooms")

    def ready(self) -> None:
        # Sharing (below) keeps a room's id on a share link; it asks this app
        # which shop a room belongs to before making one.
        from kinshop.live import queries, services
        from kinshop.live.hub import hub
        from kinshop.sharing import services as sharing

        sharing.register_live_rooms(queries.shop_of_open_room)
        hub.set_peak_writer(services.record_peak_from_hub)
        hub.set_order_announcer(services.announce_paid_orders_from_hub)
