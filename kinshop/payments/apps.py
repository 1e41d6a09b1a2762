from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "kinshop.payments"
    label = "payments"
