from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kinshop.ops"
    label = "ops"
