from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "kinshop.shops"
    label = "shops"
