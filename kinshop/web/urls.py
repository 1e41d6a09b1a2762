"""The web pages of every app, in one place so the order of patterns is visible."""

from django.urls import include, path

urlpatterns = [
    path("", include("kinshop.web.accounts.urls")),
    path("", include("kinshop.web.orders.payment_urls")),
    path("", include("kinshop.web.sharing.urls")),
    path("", include("kinshop.web.orders.urls")),  # cart, checkout, my orders, refunds
    path("", include("kinshop.web.sharer.urls")),  # sharer centre /me/: links, wallet, withdrawals
    path("", include("kinshop.web.supplier_console.urls")),  # supplier console /console/supplier/
    path("", include("kinshop.web.shop_console.urls")),  # shop console /console/shop/
    path("", include("kinshop.web.storefront.urls")),  # storefronts last: /shop/<handle>/
]
