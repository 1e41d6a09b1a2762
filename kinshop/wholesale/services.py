"""Use cases of wholesale: the only writers of tiers, holdings, offline sales
and returns. Every function runs inside its caller's transaction.

Lock order: a shop's holding rows (by primary key), then SKU rows (stock), then
an order (a return's refund). Nothing locks them the other way round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings

from kinshop.catalog.models import SKU
from kinshop.catalog.queries import is_staff_of
from kinshop.core import clock
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.orders import rules as order_rules
from kinshop.orders import services as orders
from kinshop.orders.models import Fulfilment, Order, OrderLine, Refund
from kinshop.orders.rules import Address, LineRequest
from kinshop.shops.models import Shop
from kinshop.wholesale import queries, rules
from kinshop.wholesale.models import OfflineSale, WholesaleReturn, WholesaleTier
from kinshop.wholesale.rules import Tier

__all__ = ["Address", "LineRequest", "Tier"]

_TIER_PROBLEMS = {
    "too_many_tiers": f"At most {rules.MAX_TIERS} tiers per SKU.",
    "invalid_min_quantity": f"A tier starts at 1 to {rules.MAX_TIER_QUANTITY} units.",
    "invalid_unit_price": "A tier's unit price is at least 1 fen.",
    "tier_above_supply_price": "A wholesale price cannot be above the supply price.",
    "duplicate_min_quantity": "Two tiers start at the same quantity.",
    "tier_prices_not_falling": "Each tier must cost less per unit than the one before it.",
}


def set_tiers(*, user, sku_id: int, tiers: Iterable[Tier]) -> list[WholesaleTier]:
    """The supplier's staff replace a SKU's wholesale tiers (none: the SKU is
    not sold wholesale). Orders already placed keep the price they were given."""
    sku = SKU.objects.select_for_update().filter(pk=sku_id).first()
    if sku is None:
        raise NotFound("No such SKU.", code="sku_not_found")
    if not is_staff_of(user, sku.supplier_id):
        raise Forbidden(
            "Only this supplier's staff can set its wholesale prices.", code="not_supplier_staff"
        )
    tiers = sorted(tiers, key=lambda tier: tier.min_quantity)
    if problem := rules.tiers_problem(tiers, supply_price=sku.supply_price):
        raise InvalidInput(_TIER_PROBLEMS[problem], code=problem, supply_price=sku.supply_price)
    WholesaleTier.objects.filter(sku=sku).delete()
    return WholesaleTier.objects.bulk_create(
        [
            WholesaleTier(
                sku=sku,
                supplier_id=sku.supplier_id,
                min_quantity=tier.min_quantity,
                unit_price=tier.unit_price,
            )
            for tier in tiers
        ]
    )


def _shop_address(shop: Shop) -> Address:
    """Where a wholesale order goes when the keeper names no address: the shop
    itself, known to the supplier by its keeper's name and phone."""
    return Address(
        name=shop.name[:60],
        phone=shop.owner.phone or "",
        region="",
        detail=f"@{shop.handle}",
    )


def place_order(
    *, user, shop: Shop, lines: Iterable[LineRequest], address: Address | None = None
) -> Order:
    """A shopkeeper buys stock at the supplier's tier price for the quantity
    ordered. Refused 409 `holding_cap` when the shop would then hold more unsold
    units of a SKU (held, plus on its wholesale orders not yet shipped) than
    max(KINSHOP_HOLDING_FLOOR, 2 × what it sold offline in the last 30 days).
    The check and the order happen under the lock of the shop's holdings, so
    two orders at once cannot both slip under the cap."""
    if shop.owner_id != user.id:
        raise Forbidden("Only the shop's keeper can buy stock for it.", code="not_shopkeeper")
    try:
        quantities = order_rules.merge_lines(lines)
    except ValueError as error:
        raise InvalidInput(orders.LINE_PROBLEMS[str(error)], code=str(error)) from None
    if address is not None and (problem := order_rules.address_problem(address)):
        raise InvalidInput("The delivery address is incomplete.", code=problem)
    skus = {
        sku.id: sku
        for sku in SKU.objects.select_related("product", "supplier").filter(pk__in=quantities)
    }
    if unknown := sorted(set(quantities) - set(skus)):
        raise InvalidInput("Some SKUs do not exist.", code="unknown_sku", sku_ids=unknown)
    off_market = [
        sku_id
        for sku_id, sku in skus.items()
        if not sku.product.is_active or not sku.supplier.is_verified
    ]
    if off_market:
        raise Conflict(
            "Some of these SKUs are not on the market.", code="not_on_market", sku_ids=off_market
        )
    tiers = queries.tiers_of(quantities)
    prices: dict[int, int] = {}
    for sku_id, quantity in sorted(quantities.items()):
        if sku_id not in tiers:
            raise Conflict(
                "This SKU is not sold wholesale.", code="no_wholesale_tiers", sku_id=sku_id
            )
        price = rules.tier_price(tiers[sku_id], quantity)
        if price is None:
            minimum = rules.minimum_quantity(tiers[sku_id])
            raise InvalidInput(
                f"Wholesale starts at {minimum} units of this SKU.",
                code="below_wholesale_minimum",
                sku_id=sku_id,
                min_quantity=minimum,
            )
        prices[sku_id] = price

    queries.lock_holdings(shop, skus.values())
    counts = queries.counts(shop.id, quantities)
    now = clock.now()
    recent = queries.sold_offline_since(shop.id, quantities, now - queries.OFFLINE_WINDOW)
    floor = settings.KINSHOP_HOLDING_FLOOR
    for sku_id, quantity in sorted(quantities.items()):
        check = rules.check_cap(
            counts=counts.get(sku_id, rules.Counts()),
            ordering=quantity,
            floor=floor,
            sold_offline_30_days=recent.get(sku_id, 0),
        )
        if not check.allowed:
            sold = recent.get(sku_id, 0)
            raise Conflict(
                f"Holding cap: the shop would hold {check.unsold + quantity} unsold units of "
                f"{skus[sku_id]} ({check.unsold} unsold now + {quantity} ordered), over its cap "
                f"of {check.cap} = max({floor}, 2 × {sold} sold offline in the last 30 days). "
                f"At most {check.room} more can be ordered now.",
                code="holding_cap",
                sku_id=sku_id,
                unsold=check.unsold,
                ordering=quantity,
                cap=check.cap,
                floor=floor,
                sold_offline_30_days=sold,
                room=check.room,
            )
    return orders.place_wholesale_order(
        shop=shop,
        skus=skus,
        quantities=quantities,
        unit_prices=prices,
        address=address or _shop_address(shop),
    )


def record_offline_sale(
    *, user, shop: Shop, sku_id: int, quantity: int, unit_price: int, at: dt.datetime | None = None
) -> OfflineSale:
    """The shopkeeper records units sold to consumers offline: they have reached
    a consumer. Never more than the shop holds (409 `exceeds_holding`)."""
    if shop.owner_id != user.id:
        raise Forbidden("Only the shop's keeper can record its sales.", code="not_shopkeeper")
    if quantity < 1:
        raise InvalidInput("A sale is at least 1 unit.", code="quantity_not_positive")
    if unit_price < 0:
        raise InvalidInput("A price cannot be negative.", code="negative_amount")
    holding = queries.lock_holding(shop, sku_id)
    held = queries.counts(shop.id, [sku_id]).get(sku_id, rules.Counts()).held if holding else 0
    if holding is None or quantity > held:
        raise Conflict(
            f"The shop holds {held} units of this SKU; it cannot sell {quantity} of them.",
            code="exceeds_holding",
            sku_id=sku_id,
            held=held,
            quantity=quantity,
        )
    return OfflineSale.objects.create(
        holding=holding,
        shop=shop,
        sku_id=sku_id,
        supplier_id=holding.supplier_id,
        quantity=quantity,
        unit_price=unit_price,
        currency=settings.KINSHOP_CURRENCY,
        sold_at=at or clock.now(),
        recorded_by=user,
    )


def return_units(
    *, user, shop: Shop, order_id: int, sku_id: int, quantity: int, reason: str
) -> Refund:
    """The shopkeeper sends unsold units back to the supplier: a refund of the
    wholesale line they were bought on, at the price paid for them, which the
    supplier approves like any refund (within the order's after-sales window).
    The units leave the holding now and come back if the refund is refused."""
    if shop.owner_id != user.id:
        raise Forbidden("Only the shop's keeper can return its stock.", code="not_shopkeeper")
    if quantity < 1:
        raise InvalidInput("A return is at least 1 unit.", code="quantity_not_positive")
    holding = queries.lock_holding(shop, sku_id)
    line = OrderLine.objects.filter(
        order_id=order_id, sku_id=sku_id, shop=shop, is_wholesale=True
    ).first()
    if holding is None or line is None:
        raise NotFound("No such wholesale line.", code="line_not_found")
    if not Fulfilment.objects.filter(
        pk=line.fulfilment_id, status=Fulfilment.Status.SHIPPED
    ).exists():
        raise Conflict("Only units that were shipped can be returned.", code="not_shipped")
    held = queries.counts(shop.id, [sku_id]).get(sku_id, rules.Counts()).held
    returned_on_line = sum(
        WholesaleReturn.objects.filter(line=line)
        .exclude(refund__status__in=queries.RETURN_VOID)
        .values_list("quantity", flat=True)
    )
    if quantity > held:
        raise Conflict(
            f"The shop holds {held} units of this SKU; it cannot return {quantity}.",
            code="exceeds_holding",
            held=held,
            quantity=quantity,
        )
    if quantity > line.quantity - returned_on_line:
        raise Conflict(
            f"Only {line.quantity - returned_on_line} units of this line can still be returned.",
            code="exceeds_line",
            returnable=line.quantity - returned_on_line,
        )
    refund = orders.request_refund(
        user=user,
        order_id=order_id,
        amount=quantity * line.unit_price,
        reason=reason or f"return of {quantity} unsold units",
        supplier_id=line.supplier_id,
    )
    WholesaleReturn.objects.create(
        holding=holding,
        shop=shop,
        sku_id=sku_id,
        supplier_id=line.supplier_id,
        line=line,
        refund=refund,
        quantity=quantity,
        created_at=refund.created_at,
    )
    return refund
