from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "kinshop.idempotency"
    label = "idempotency"
