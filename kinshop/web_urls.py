"""The web pages of every app, in one place so the order of patterns is visible."""

from django.urls import include, path

urlpatterns = [
    path("", include("kinshop.accounts.urls")),
    path("", include("kinshop.payments.urls")),
    path("", include("kinshop.sharing.urls")),
    path("", include("kinshop.shops.urls")),
]
