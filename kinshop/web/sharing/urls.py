from django.urls import path

from kinshop.web.sharing import views

app_name = "sharing"
urlpatterns = [
    path("share/", views.share_sheet, name="share_sheet"),
    path("s/<str:code>", views.landing, name="landing"),
    path("s/<str:code>/", views.landing),
    path("s/<str:code>/poster.png", views.poster_png, name="poster"),
]
