from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.static import serve

from kinshop.api import api, docs
from kinshop.live.streams import live_events

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/docs", docs, name="api-docs"),
    # An async view streaming Server-Sent Events (in the API's document as live_events).
    path("api/v1/live-rooms/<str:room_id>/events", live_events, name="live-events"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kinshop.web.urls")),
]

if settings.DEBUG or settings.KINSHOP_SERVE_MEDIA:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
