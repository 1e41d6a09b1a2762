from django.apps import AppConfig


class WebConfig(AppConfig):
    """Every page: storefront, cart and checkout, sharer centre, consoles.
    It sits on top of the domain apps and calls their services; none of them
    imports it."""

    name = "kinshop.web"
    label = "web"
