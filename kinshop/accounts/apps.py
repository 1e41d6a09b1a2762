from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kinshop.accounts"
    label = "accounts"
