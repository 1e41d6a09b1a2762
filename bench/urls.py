"""Kinshop's URLs plus `/bench/trivial/`: the cheapest Django answer through the
same middleware, the floor a real page is compared with."""

from django.http import HttpResponse
from django.urls import include, path


def trivial(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("kinshop.urls")),
]
