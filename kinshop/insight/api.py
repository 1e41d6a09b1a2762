"""Insight over the JSON API: a shop's, the caller's (as sharer) and the
platform's numbers, and a shop's cohorts. `?format=csv` or `Accept: text/csv`
answers the same numbers as CSV (one `key,value` row each, dotted keys for the
nested ones). Apps report product views and cart adds with `record_event`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db import transaction
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from kinshop.core.api import error_responses
from kinshop.insight import charts, queries, rules, services

router = Router(tags=["insight"])


class PeriodQuery(Schema):
    start: dt.date | None = Field(None, alias="from")
    end: dt.date | None = Field(None, alias="to")
    format: Literal["json", "csv"] | None = None


def _period(params: PeriodQuery) -> rules.Period:
    return rules.period(
        params.start.isoformat() if params.start else None,
        params.end.isoformat() if params.end else None,
        today=queries.today(),
    )


# What `?format=csv` (or `Accept: text/csv`) answers instead of JSON, documented
# so that the contract says what a client may receive.
def csv_too(schema: str) -> dict[str, Any]:
    return {
        "responses": {
            "200": {
                "description": "OK (CSV with ?format=csv or Accept: text/csv)",
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        }
    }


def wants_csv(request, params: PeriodQuery) -> bool:
    return params.format == "csv" or "text/csv" in request.headers.get("Accept", "")


def csv_response(table: charts.Table, filename: str) -> HttpResponse:
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


class FunnelOut(Schema):
    views: int
    carts: int
    orders: int
    paid: int


class ChannelOut(Schema):
    channel: str
    clicks: int
    orders: int
    gmv: int


class FactorsOut(Schema):
    gmv: int
    visitors: int
    buyers: int
    orders: int
    conversion: float
    orders_per_buyer: float
    aov: float
    exact: dict[str, str]
    funnel: FunnelOut
    repeat_buyer_rate: float
    retail_reach_rate: float
    self_purchase_share: float


class PreviousOut(FactorsOut):
    from_: dt.date = Field(..., alias="from")
    to: dt.date


class InsightOut(FactorsOut):
    from_: dt.date = Field(..., alias="from")
    to: dt.date
    currency: str
    channels: list[ChannelOut]
    previous: PreviousOut
    change: dict[str, float | None]


class ShopInsightOut(InsightOut):
    shop: str


class DecileOut(Schema):
    decile: int
    sharers: int
    income: int
    share: float


class PlatformInsightOut(InsightOut):
    sharers: int
    sharer_income: int
    sharer_income_gini: float
    income_deciles: list[DecileOut]
    lorenz: list[list[float]]
    commission_levels: int


class SharerLinkOut(Schema):
    code: str
    shop: str
    product_id: int | None
    title: str
    clicks: int
    orders: int
    gmv: int
    commission: int


class SharerChannelOut(ChannelOut):
    commission: int


class SharerRowOut(SharerChannelOut):
    code: str


class SharerInsightOut(Schema):
    from_: dt.date = Field(..., alias="from")
    to: dt.date
    currency: str
    clicks: int
    orders: int
    gmv: int
    commission: int
    links: list[SharerLinkOut]
    channels: list[SharerChannelOut]
    rows: list[SharerRowOut]


class CohortCellOut(Schema):
    months_since: int
    buyers: int
    share: float


class CohortOut(Schema):
    month: str
    buyers: int
    months: list[CohortCellOut]


class CohortsOut(Schema):
    shop: str
    from_: dt.date = Field(..., alias="from")
    to: dt.date
    cohorts: list[CohortOut]


def _answer(request, params: PeriodQuery, data: dict[str, Any], filename: str):
    if wants_csv(request, params):
        return csv_response(charts.flat_table(data), filename)
    return data


@router.get(
    "/shops/{handle}/insight",
    operation_id="shop_insight",
    openapi_extra=csv_too("ShopInsightOut"),
    response={200: ShopInsightOut, **error_responses(401, 403, 404)},
    by_alias=True,
)
def shop_insight(request, handle: str, params: Query[PeriodQuery]):
    """A shop's GMV and its four factors over the period against the previous
    one, funnel, channels and rates: the shop's keeper or an operator.

    Wholesale orders (a shop buying stock) are not consumer sales and count in
    no orders, buyers, GMV or visitors. `retail_reach_rate` is not a flow of the
    period: it is units that reached a consumer ÷ units that left suppliers
    over everything up to the period's end (`previous` up to the previous
    period's end), the rule of `compliance_report`."""
    period = _period(params)
    shop = queries.shop_for_insight(request.auth, handle)
    return _answer(request, params, queries.shop_insight(shop, period), f"insight-{handle}")


@router.get(
    "/shops/{handle}/insight/cohorts",
    operation_id="cohorts",
    openapi_extra=csv_too("CohortsOut"),
    response={200: CohortsOut, **error_responses(401, 403, 404)},
    by_alias=True,
)
def cohorts(request, handle: str, params: Query[PeriodQuery]):
    """Monthly first-purchase cohorts × months since, with the share of each
    cohort that bought again (default: the last twelve months)."""
    period = queries.cohort_period(
        params.start.isoformat() if params.start else None,
        params.end.isoformat() if params.end else None,
    )
    shop = queries.shop_for_insight(request.auth, handle)
    data = queries.cohorts(shop, period)
    if wants_csv(request, params):
        return csv_response(charts.cohort_table(data), f"cohorts-{handle}")
    return data


@router.get(
    "/me/insight",
    operation_id="sharer_insight",
    openapi_extra=csv_too("SharerInsightOut"),
    response={200: SharerInsightOut, **error_responses(401)},
    by_alias=True,
)
def sharer_insight(request, params: Query[PeriodQuery]):
    """The caller as sharer: clicks, orders, GMV and commission per link and per
    channel over the period."""
    data = queries.sharer_insight(request.auth, _period(params))
    if wants_csv(request, params):
        table = charts.Table(
            "rows",
            ("code", "channel", "clicks", "orders", "gmv", "commission"),
            [
                [row[k] for k in ("code", "channel", "clicks", "orders", "gmv", "commission")]
                for row in data["rows"]
            ],
        )
        return csv_response(table, "my-insight")
    return data


@router.get(
    "/insight/platform",
    operation_id="platform_insight",
    openapi_extra=csv_too("PlatformInsightOut"),
    response={200: PlatformInsightOut, **error_responses(401, 403)},
    by_alias=True,
)
def platform_insight(request, params: Query[PeriodQuery]):
    """Operator only: the platform's factors, and the spread of sharer income
    (Gini, deciles, Lorenz curve) with the compliance numbers.

    Wholesale orders (a shop buying stock) are not consumer sales and count in
    no orders, buyers, GMV or visitors. `retail_reach_rate` is not a flow of the
    period: it is units that reached a consumer ÷ units that left suppliers
    over everything up to the period's end (`previous` up to the previous
    period's end), the rule of `compliance_report`."""
    period = _period(params)
    queries.require_operator(request.auth)
    return _answer(request, params, queries.platform_insight(period), "insight-platform")


class SupplierPeriodOut(Schema):
    gmv: int
    orders: int
    units: int
    aov: float
    retail_reach_rate: float


class SupplierPreviousOut(SupplierPeriodOut):
    from_: dt.date = Field(..., alias="from")
    to: dt.date


class SupplierInsightOut(SupplierPeriodOut):
    supplier_id: int
    from_: dt.date = Field(..., alias="from")
    to: dt.date
    currency: str
    previous: SupplierPreviousOut
    change: dict[str, float | None]


@router.get(
    "/suppliers/{supplier_id}/insight",
    operation_id="supplier_insight",
    openapi_extra=csv_too("SupplierInsightOut"),
    response={200: SupplierInsightOut, **error_responses(401, 403, 404)},
    by_alias=True,
)
def supplier_insight(request, supplier_id: int, params: Query[PeriodQuery]):
    """What consumers bought of the supplier's goods through every shop over the period against the
    previous one: its staff or an operator.

    Wholesale orders (a shop buying stock) are not consumer sales and count in
    no orders, buyers, GMV or visitors. `retail_reach_rate` is not a flow of the
    period: it is units that reached a consumer ÷ units that left suppliers
    over everything up to the period's end (`previous` up to the previous
    period's end), the rule of `compliance_report`."""
    period = _period(params)
    queries.supplier_for_insight(request.auth, supplier_id)
    data = queries.supplier_insight(supplier_id, period)
    return _answer(request, params, data, f"insight-supplier-{supplier_id}")


class EventIn(Schema):
    kind: Literal["view", "cart"]
    shop: str = Field(..., min_length=1, max_length=30)
    product_id: int | None = None


class EventOut(Schema):
    recorded: bool


@router.post(
    "/insight/events",
    operation_id="record_event",
    response={200: EventOut, **error_responses(401, 404)},
)
def record_event(request, payload: EventIn):
    """An app reports a product view or a cart add by the signed-in user (the
    web pages record their own). Bots record nothing."""
    shop = queries.shop_by_handle(payload.shop)
    with transaction.atomic():
        event = services.record_event(
            kind=payload.kind,
            shop_id=shop.pk,
            product_id=payload.product_id,
            user_id=request.auth.pk,
            device_id=getattr(request, "device_id", None),
            user_agent=request.headers.get("User-Agent", "") or "app",
        )
    return {"recorded": event is not None}
