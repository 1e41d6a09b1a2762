"""The project's URLs with the share pages, whether or not web_urls has them yet."""

from django.urls import NoReverseMatch, include, path, reverse

from kinshop.urls import urlpatterns as project_urlpatterns

urlpatterns = list(project_urlpatterns)
try:
    reverse("sharing:landing", args=["x"])
except NoReverseMatch:
    urlpatterns.append(path("", include("kinshop.sharing.urls")))
