from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`kinshop demo`: a ready-to-explore platform with believable data. No models."""

    name = "kinshop.demo"
    label = "demo"
    verbose_name = "Demo"
