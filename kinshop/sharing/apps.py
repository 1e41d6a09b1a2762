from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "kinshop.sharing"
    label = "sharing"
