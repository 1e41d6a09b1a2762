from django.urls import path

from kinshop.web.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("group-buys/<id:group_buy_id>/", views.group_buy_page, name="group_buy"),
    path("groups/<id:group_id>/", views.group_page, name="group"),
    path("flash-sales/<id:sale_id>/", views.flash_sale_page, name="flash_sale"),
    path("presales/<id:presale_id>/", views.presale_page, name="presale"),
    path("console/shop/campaigns/", views.console, name="console"),
    path(
        "console/shop/campaigns/group-buys/<id:group_buy_id>/end/",
        views.console_end_group_buy,
        name="end_group_buy",
    ),
    path(
        "console/shop/campaigns/flash-sales/<id:sale_id>/end/",
        views.console_end_flash_sale,
        name="end_flash_sale",
    ),
]
