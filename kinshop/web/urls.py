"""Every page's URLs, in one place so the order of patterns is visible. Each
part has its own namespace: accounts, payments, sharing, orders, sharer,
supplier_console, shop_console, campaigns, storefront."""

from django.urls import include, path

urlpatterns = [
    # Storefronts first: the pages a shared link brings crowds to (each pattern
    # tried before costs every request), and nothing else lives under /shop/.
    path("", include("kinshop.web.storefront.urls")),  # home, /shop/<handle>/, products
    path("", include("kinshop.web.accounts.urls")),  # sign up, sign in, sign out
    path("", include("kinshop.web.orders.payment_urls")),  # paying an order
    path("", include("kinshop.web.sharing.urls")),  # share sheet, /s/<code> landing, poster
    path("", include("kinshop.web.orders.urls")),  # cart, checkout, my orders, refunds
    path("", include("kinshop.web.trust.urls")),  # reviews, complaints, replies
    path("", include("kinshop.web.insight.urls")),  # insight: shop console, sharer centre, operator
    path("", include("kinshop.web.sharer.urls")),  # sharer centre /me/: links, wallet, withdrawals
    path("", include("kinshop.web.supplier_console.urls")),  # supplier console /console/supplier/
    path("", include("kinshop.web.live.urls")),  # live rooms /live/<id>/, /console/shop/live/
    path("", include("kinshop.web.campaigns.urls")),  # group buys, groups, flash sales
    path("", include("kinshop.web.shop_console.urls")),  # shop console /console/shop/
]
