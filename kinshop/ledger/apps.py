from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "kinshop.ledger"
    label = "ledger"
