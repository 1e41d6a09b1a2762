from django.urls import path

from kinshop.web.supplier_console import views

app_name = "supplier_console"
urlpatterns = [
    path("console/supplier/", views.console, name="console"),
    path("console/supplier/products/new/", views.new_product, name="new_product"),
    path("console/supplier/skus/<id:sku_id>/stock/", views.adjust_stock, name="adjust_stock"),
    path("console/supplier/orders/", views.orders_to_ship, name="orders"),
    path("console/supplier/orders/<id:order_id>/ship/", views.ship, name="ship"),
    path(
        "console/supplier/payments/<id:payment_id>/receive/",
        views.receive_offline,
        name="receive_offline",
    ),
    path("console/supplier/refunds/", views.refunds, name="refunds"),
    path("console/supplier/wholesale/", views.wholesale, name="wholesale"),
    path(
        "console/supplier/skus/<int:sku_id>/wholesale-tiers/",
        views.set_tiers,
        name="set_tiers",
    ),
    path(
        "console/supplier/refunds/<id:refund_id>/approve/",
        views.decide_refund,
        {"decision": "approve"},
        name="approve_refund",
    ),
    path(
        "console/supplier/refunds/<id:refund_id>/reject/",
        views.decide_refund,
        {"decision": "reject"},
        name="reject_refund",
    ),
]
