from django.urls import path

from kinshop.web.orders import views

app_name = "orders"
urlpatterns = [
    path("cart/", views.cart_page, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("cart/remove/", views.cart_remove, name="cart_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.my_orders, name="my_orders"),
    path("orders/<id:order_id>/", views.order_detail, name="detail"),
    path("orders/<id:order_id>/cancel/", views.cancel, name="cancel"),
    path("orders/<id:order_id>/confirm/", views.confirm_receipt, name="confirm_receipt"),
    path("orders/<id:order_id>/refund/", views.request_refund, name="request_refund"),
]
