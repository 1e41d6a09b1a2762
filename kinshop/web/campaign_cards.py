"""The campaign box of a product page (group buys with their open groups,
flash sales), shared by the storefront and the campaign pages: read per
request, as seats and units move."""

from __future__ import annotations

from kinshop.campaigns import queries, rules
from kinshop.core import clock


def product_campaigns(shop_id: int, sku_ids: list[int]) -> dict:
    now = clock.now()
    found = queries.live_campaigns(shop_id, sku_ids, now)
    for sale in found["flash_sales"]:
        sale.phase = rules.flash_phase(
            starts_at=sale.starts_at, ends_at=sale.ends_at, ended_at=sale.ended_at, now=now
        )
        sale.left = sale.allotment.limit - sale.allotment.taken
    for group in found["groups"]:
        group.seats_left = group.allotment.limit - group.allotment.taken
    return found
