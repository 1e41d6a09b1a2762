from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kinshop.core"
    label = "core"
