from django.urls import path

from kinshop.web.orders import payment_views as views

app_name = "payments"
urlpatterns = [
    path("orders/<id:order_id>/pay/", views.choose, name="choose"),
    path("pay/sandbox/<str:reference>/", views.sandbox_pay, name="sandbox_pay"),
]
