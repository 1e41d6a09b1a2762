from django.apps import AppConfig
from django.urls import register_converter

from kinshop.core.converters import IdConverter


class WebConfig(AppConfig):
    """Every page: storefront, cart and checkout, sharer centre, consoles.
    It sits on top of the domain apps and calls their services; none of them
    imports it."""

    name = "kinshop.web"
    label = "web"

    def ready(self) -> None:
        # `<id:...>` in the pages' URLs: an id a primary key can hold, else 404.
        register_converter(IdConverter, "id")
        # The viewer parts that pages share and other modules keep (see viewer_parts).
        from kinshop.web.orders import cart  # noqa: F401  the header's cart badge
