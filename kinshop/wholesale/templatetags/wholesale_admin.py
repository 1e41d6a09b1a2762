"""Template tags for the operator's admin index: retail reach per shop and per
supplier, and the units held longest, fetched where they are shown."""

from django import template
from django.conf import settings

from kinshop.catalog.models import Supplier
from kinshop.shops.models import Shop
from kinshop.wholesale import queries

register = template.Library()


@register.simple_tag
def retail_reach_table(party: str, limit: int = 10) -> list[dict]:
    """The parties with the lowest retail reach, each with its name."""
    rows = queries.retail_reach_by(party, limit=limit)
    model = Shop if party == "shop" else Supplier
    names = dict(model.objects.filter(pk__in=[row["id"] for row in rows]).values_list("pk", "name"))
    return [{**row, "name": names.get(row["id"], "")} for row in rows]


@register.simple_tag
def longest_held(limit: int = 10) -> list[queries.HoldingRow]:
    """The holdings whose oldest unit has waited longest for a consumer."""
    rows = queries.holding_rows(floor=settings.KINSHOP_HOLDING_FLOOR)
    return [row for row in rows if row.counts.held > 0][:limit]
