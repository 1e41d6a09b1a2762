from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "kinshop.orders"
    label = "orders"
