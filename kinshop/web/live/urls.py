from django.urls import path

from kinshop.web.live import views

app_name = "live"
urlpatterns = [
    path("live/<id:room_id>/", views.room, name="room"),
    path("live/<id:room_id>/say/", views.say, name="say"),
    path("live/<id:room_id>/share/", views.share, name="share"),
    path("live/<id:room_id>/buy/", views.buy, name="buy"),
    path("live/<id:room_id>/deal/", views.buy_deal, name="buy_deal"),
    path("console/shop/live/", views.console_rooms, name="console_rooms"),
    path("console/shop/live/<id:room_id>/", views.console_room, name="console_room"),
    path("console/shop/live/<id:room_id>/start/", views.console_start, name="console_start"),
    path("console/shop/live/<id:room_id>/end/", views.console_end, name="console_end"),
    path("console/shop/live/<id:room_id>/pin/", views.console_pin, name="console_pin"),
    path(
        "console/shop/live/<id:room_id>/unpin/<id:product_id>/",
        views.console_unpin,
        name="console_unpin",
    ),
    path("console/shop/live/<id:room_id>/mute/", views.console_mute, name="console_mute"),
]
