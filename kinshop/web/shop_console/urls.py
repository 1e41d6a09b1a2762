from django.urls import path

from kinshop.web.shop_console import views as console

app_name = "shop_console"
urlpatterns = [
    path("console/shop/", console.overview, name="overview"),
    path("console/shop/market/", console.market, name="market"),
    path("console/shop/market/<id:product_id>/pick/", console.pick, name="pick"),
    path("console/shop/products/", console.selection, name="selection"),
    path("console/shop/products/<id:product_id>/remove/", console.remove, name="remove"),
    path("console/shop/orders/", console.orders, name="orders"),
    path("console/shop/settings/", console.shop_settings, name="settings"),
    path("console/shop/wholesale/", console.wholesale, name="wholesale"),
    path("console/shop/wholesale/order/", console.wholesale_order, name="wholesale_order"),
    path("console/shop/wholesale/offline-sale/", console.offline_sale, name="offline_sale"),
]
