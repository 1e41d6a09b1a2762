"""The JSON API at /api/v1: one router per app, mounted here, and nothing else."""

from __future__ import annotations

from ninja import NinjaAPI

from kinshop.accounts.api import router as accounts
from kinshop.accounts.auth import AUTH
from kinshop.catalog.api import router as catalog
from kinshop.core.api import install_error_handlers
from kinshop.ledger.api import router as ledger
from kinshop.orders.api import router as orders
from kinshop.payments.api import router as payments
from kinshop.sharing.api import router as sharing
from kinshop.shops.api import router as shops
from kinshop.wholesale.api import router as wholesale

api = NinjaAPI(
    title="Kinshop API",
    version="1",
    description="Distributed social commerce: micro-shops, one-level sharing commission, "
    "an honest double-entry ledger.",
    auth=AUTH,
    urls_namespace="api",
)
install_error_handlers(api)

for router in (accounts, catalog, shops, sharing, orders, wholesale, payments, ledger):
    api.add_router("", router)
