from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "kinshop.catalog"
    label = "catalog"
