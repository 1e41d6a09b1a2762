from django.urls import path

from kinshop.web.sharer import views

app_name = "sharer"
urlpatterns = [
    path("me/", views.overview, name="overview"),
    path("me/entries/", views.entries, name="entries"),
    path("me/identity/", views.identity, name="identity"),
    path("me/withdraw/", views.withdraw, name="withdraw"),
    path("me/withdrawals/", views.withdrawals, name="withdrawals"),
]
