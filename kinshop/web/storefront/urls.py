from django.urls import path

from kinshop.web.storefront import views

app_name = "storefront"
urlpatterns = [
    path("", views.home, name="home"),
    path("shop/<slug:handle>/", views.storefront, name="storefront"),
    path("shop/<slug:handle>/p/<id:product_id>/", views.product_page, name="product"),
    path("supplier/<id:supplier_id>/", views.supplier_page, name="supplier"),
]
