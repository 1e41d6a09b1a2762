"""The JSON API at /api/v1: one router per app, mounted here, and nothing else."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from ninja import NinjaAPI
from ninja.openapi.views import openapi_view

from kinshop.accounts.api import router as accounts
from kinshop.accounts.auth import AUTH
from kinshop.campaigns.api import router as campaigns
from kinshop.catalog.api import router as catalog
from kinshop.core.api import install_error_handlers
from kinshop.insight.api import router as insight
from kinshop.ledger.api import router as ledger
from kinshop.live.api import OPENAPI_PATHS as LIVE_STREAM_PATHS
from kinshop.live.api import router as live
from kinshop.orders.api import router as orders
from kinshop.payments.api import router as payments
from kinshop.sharing.api import router as sharing
from kinshop.shops.api import router as shops
from kinshop.trust.api import router as trust
from kinshop.wholesale.api import router as wholesale


class KinshopAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """The document of every router, plus the live rooms' event stream: an
        async view of its own (kinshop/live/streams.py) at its path."""
        schema = super().get_openapi_schema(*args, **kwargs)
        schema["paths"].update(LIVE_STREAM_PATHS)
        return schema


api = KinshopAPI(
    title="Kinshop API",
    version="1",
    description="Distributed social commerce: micro-shops, one-level sharing commission, "
    "an honest double-entry ledger.",
    auth=AUTH,
    urls_namespace="api",
    docs_url=None,  # served by `docs` below, for operators only
)
install_error_handlers(api)

for router in (
    accounts,
    catalog,
    shops,
    sharing,
    orders,
    wholesale,
    payments,
    ledger,
    campaigns,
    trust,
    live,
    insight,
):
    api.add_router("", router)


def _for_operators_unless_public(view):
    """The interactive docs show every operation with a try-it console: for
    signed-in operators only, unless KINSHOP_PUBLIC_API_DOCS is on. The
    contract itself, /api/v1/openapi.json, stays public."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if settings.KINSHOP_PUBLIC_API_DOCS or (user.is_authenticated and user.is_staff):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))

    return guarded


@_for_operators_unless_public
def docs(request):
    return openapi_view(request, api=api)
