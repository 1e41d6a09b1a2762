"""The JSON API at /api/v1: one router per app, mounted here, and nothing else."""

from __future__ import annotations

from ninja import NinjaAPI

from kinshop.core.api import AUTH, install_error_handlers

api = NinjaAPI(
    title="Kinshop API",
    version="1",
    description="Distributed social commerce: micro-shops, one-level sharing commission, "
    "an honest double-entry ledger.",
    auth=AUTH,
    urls_namespace="api",
)
install_error_handlers(api)


def _mount() -> None:
    from kinshop.accounts.api import router as accounts
    from kinshop.catalog.api import router as catalog
    from kinshop.shops.api import router as shops

    api.add_router("", accounts)
    api.add_router("", catalog)
    api.add_router("", shops)
    for module in ("sharing", "orders", "payments", "ledger"):
        try:
            router = __import__(f"kinshop.{module}.api", fromlist=["router"]).router
        except ModuleNotFoundError:
            continue
        api.add_router("", router)


_mount()
