from django.contrib.auth import views as auth_views
from django.urls import path

from kinshop.web.accounts import views

app_name = "accounts"
urlpatterns = [
    path("accounts/sign-up/", views.sign_up, name="sign_up"),
    path("accounts/sign-in/", views.SignInView.as_view(), name="login"),
    path("accounts/sign-out/", auth_views.LogoutView.as_view(), name="logout"),
]
