"""The wholesale operations of the API contract (section "Wholesale and retail
reach") and a few of the same style: the tiers of a SKU, returns of unsold units."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from ninja import Field, Router, Schema, Status

from kinshop.catalog.models import SKU
from kinshop.core.api import error_responses
from kinshop.core.errors import NotFound
from kinshop.idempotency.api import idempotent
from kinshop.orders import queries as order_queries
from kinshop.orders.api import OrderOut, RefundOut, order_out, refund_out
from kinshop.orders.models import Order
from kinshop.wholesale import queries, services

router = Router(tags=["wholesale"])

MAX_FEN = 10**12


class TierIn(Schema):
    min_quantity: int = Field(..., ge=1, le=999)
    unit_price: int = Field(..., ge=1, le=MAX_FEN)


class TierOut(Schema):
    min_quantity: int
    unit_price: int


class TiersOut(Schema):
    sku_id: int
    supply_price: int
    currency: str
    tiers: list[TierOut]


class WholesaleLineIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**62)
    quantity: int = Field(..., ge=1, le=999)


class AddressIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    phone: str = Field(..., min_length=6, max_length=20)
    region: str = Field(..., min_length=1, max_length=120)
    detail: str = Field(..., min_length=1, max_length=255)


class WholesaleOrderIn(Schema):
    lines: list[WholesaleLineIn] = Field(..., min_length=1, max_length=50)
    address: AddressIn | None = None


class OfflineSaleIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**62)
    quantity: int = Field(..., ge=1, le=100_000)
    unit_price: int = Field(..., ge=0, le=MAX_FEN)


class OfflineSaleOut(Schema):
    id: int
    sku_id: int
    quantity: int
    unit_price: int
    currency: str
    sold_at: dt.datetime
    held: int


class HoldingOut(Schema):
    sku_id: int
    product_id: int
    supplier_id: int
    title: str
    sku_name: str
    bought: int
    sold_offline: int
    returned: int
    held: int
    on_order: int
    unsold: int
    sold_offline_30_days: int
    cap: int
    held_since: dt.datetime | None = None


class ReturnIn(Schema):
    order_id: int = Field(..., ge=1, le=2**62)
    sku_id: int = Field(..., ge=1, le=2**62)
    quantity: int = Field(..., ge=1, le=999)
    reason: str = Field("", max_length=500)


def _tiers_out(sku: SKU) -> dict:
    return {
        "sku_id": sku.id,
        "supply_price": sku.supply_price,
        "currency": sku.currency,
        "tiers": [
            {"min_quantity": tier.min_quantity, "unit_price": tier.unit_price}
            for tier in sku.wholesale_tiers.order_by("min_quantity")
        ],
    }


def holding_out(row: queries.HoldingRow) -> dict:
    sku, counts = row.sku, row.counts
    return {
        "sku_id": sku.id,
        "product_id": sku.product_id,
        "supplier_id": sku.supplier_id,
        "title": sku.product.title,
        "sku_name": sku.name,
        "bought": counts.bought,
        "sold_offline": counts.sold_offline,
        "returned": counts.returned,
        "held": counts.held,
        "on_order": counts.on_order,
        "unsold": counts.unsold,
        "sold_offline_30_days": row.sold_offline_30_days,
        "cap": row.cap,
        "held_since": row.held_since,
    }


@router.put(
    "/skus/{sku_id}/wholesale-tiers",
    operation_id="set_wholesale_tiers",
    response={200: TiersOut, **error_responses(401, 403, 404, 409)},
)
def set_wholesale_tiers(request, sku_id: int, payload: list[TierIn]):
    with transaction.atomic():
        services.set_tiers(
            user=request.auth,
            sku_id=sku_id,
            tiers=[services.Tier(tier.min_quantity, tier.unit_price) for tier in payload],
        )
    return _tiers_out(SKU.objects.get(pk=sku_id))


@router.get(
    "/skus/{sku_id}/wholesale-tiers",
    operation_id="get_wholesale_tiers",
    auth=None,
    response={200: TiersOut, **error_responses(404)},
)
def get_wholesale_tiers(request, sku_id: int):
    sku = SKU.objects.filter(pk=sku_id).first()
    if sku is None:
        raise NotFound("No such SKU.", code="sku_not_found")
    return _tiers_out(sku)


@router.post(
    "/shops/{handle}/wholesale-orders",
    operation_id="create_wholesale_order",
    response={201: OrderOut, 200: OrderOut, **error_responses(401, 403, 404, 409)},
)
def create_wholesale_order(request, handle: str, payload: WholesaleOrderIn):
    def place():
        shop = queries.shop_for_keeper(request.auth, handle)
        order = services.place_order(
            user=request.auth,
            shop=shop,
            lines=[services.LineRequest(line.sku_id, line.quantity) for line in payload.lines],
            address=services.Address(**payload.address.dict()) if payload.address else None,
        )
        return order_out(order_queries.with_details(Order.objects.filter(pk=order.pk)).get())

    return idempotent(
        request,
        operation="create_wholesale_order",
        payload=payload,
        schema=OrderOut,
        status=201,
        action=place,
    )


@router.post(
    "/shops/{handle}/offline-sales",
    operation_id="record_offline_sale",
    response={201: OfflineSaleOut, **error_responses(401, 403, 404, 409)},
)
def record_offline_sale(request, handle: str, payload: OfflineSaleIn):
    with transaction.atomic():
        shop = queries.shop_for_keeper(request.auth, handle)
        sale = services.record_offline_sale(
            user=request.auth,
            shop=shop,
            sku_id=payload.sku_id,
            quantity=payload.quantity,
            unit_price=payload.unit_price,
        )
        held = queries.counts(shop.id, [sale.sku_id])[sale.sku_id].held
    return Status(
        201,
        {
            "id": sale.id,
            "sku_id": sale.sku_id,
            "quantity": sale.quantity,
            "unit_price": sale.unit_price,
            "currency": sale.currency,
            "sold_at": sale.sold_at,
            "held": held,
        },
    )


@router.get(
    "/shops/{handle}/holdings",
    operation_id="get_holdings",
    response={200: list[HoldingOut], **error_responses(401, 403, 404)},
)
def get_holdings(request, handle: str):
    shop = queries.shop_for_reader(request.auth, handle)
    rows = queries.holding_rows(shop_id=shop.id, floor=settings.KINSHOP_HOLDING_FLOOR)
    return [holding_out(row) for row in rows]


@router.post(
    "/shops/{handle}/wholesale-returns",
    operation_id="return_wholesale_units",
    response={201: RefundOut, **error_responses(401, 403, 404, 409)},
)
def return_wholesale_units(request, handle: str, payload: ReturnIn):
    with transaction.atomic():
        shop = queries.shop_for_keeper(request.auth, handle)
        refund = services.return_units(
            user=request.auth,
            shop=shop,
            order_id=payload.order_id,
            sku_id=payload.sku_id,
            quantity=payload.quantity,
            reason=payload.reason,
        )
    return Status(201, refund_out(refund))
