from django.urls import path

from kinshop.web.insight import views

app_name = "insight"
urlpatterns = [
    path("console/shop/insight/", views.shop_page, name="shop"),
    path("me/insight/", views.sharer_page, name="sharer"),
    path("console/insight/", views.platform_page, name="platform"),
]
