"""Read helpers for orders, and the one place orders are locked."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, TypedDict

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from kinshop.accounts.models import Identifier
from kinshop.catalog.models import SKU, Product, Supplier, SupplierMembership
from kinshop.core import rows
from kinshop.core.errors import Forbidden, NotFound
from kinshop.orders.models import Allotment, Fulfilment, Order, OrderLine, Refund
from kinshop.sharing.models import Click, ShareLink
from kinshop.shops.models import SelectionPrice, Shop

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def with_details(queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    queryset = Order.objects.all() if queryset is None else queryset
    return queryset.select_related("shop", "buyer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch(
            "fulfilments", queryset=Fulfilment.objects.select_related("supplier").order_by("id")
        ),
    )


def supplier_ids_of(user) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(SupplierMembership.objects.filter(user=user).values_list("supplier_id", flat=True))


def visibility(user) -> Q:
    """Who may see an order: its buyer, its shop's keeper, the staff of a
    supplier with lines in it, and operators. The supplier test is an EXISTS,
    so no join multiplies the rows and no DISTINCT is needed."""
    if user.is_staff:
        return Q()
    supplies_it = Exists(
        Fulfilment.objects.filter(order=OuterRef("pk"), supplier__memberships__user=user)
    )
    return Q(buyer=user) | Q(shop__owner=user) | Q(supplies_it)


def can_see_order(user, order_id: int) -> bool:
    """The permission check alone: one query, nothing loaded."""
    return (
        bool(user.is_authenticated) and Order.objects.filter(visibility(user), pk=order_id).exists()
    )


def visible_order(user, order_id: int) -> Order | None:
    if not user.is_authenticated:
        return None
    return with_details(Order.objects.filter(visibility(user), pk=order_id)).first()


_ONLY = {
    "buyer": ("Only the buyer can do this to the order.", "not_buyer"),
    "buyer_or_operator": ("Only the buyer can do this to the order.", "not_buyer"),
    "supplier": ("Only the staff of a supplier in this order can do this.", "not_supplier_staff"),
    "supplier_or_operator": (
        "Only the supplier's staff or an operator can do this.",
        "not_allowed",
    ),
}


def order_for(user, order_id: int, *, as_: str = "viewer", lock: bool = False) -> Order:
    """The one authorization check of an order, used by every service that acts
    on one: an order the user may not see does not exist for them (404
    `order_not_found`); one they see but may not act on `as_` this role is 403.
    Roles: `viewer` (whoever may see it), `buyer`, `buyer_or_operator`,
    `supplier` (staff of a supplier with a part in it), `supplier_or_operator`.
    With `lock`, the order's row is locked first (the start of every change)."""
    if not user.is_authenticated:
        raise NotFound("No such order.", code="order_not_found")
    order = lock_order(order_id) if lock else Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    if _acts_as(user, order, as_):
        return order
    if as_ == "viewer" or not can_see_order(user, order_id):
        raise NotFound("No such order.", code="order_not_found")
    message, code = _ONLY[as_]
    raise Forbidden(message, code=code)


def _acts_as(user, order: Order, role: str) -> bool:
    if role in ("buyer", "buyer_or_operator") and order.buyer_id == user.id:
        return True
    if role.endswith("_or_operator") and user.is_staff:
        return True
    if role in ("supplier", "supplier_or_operator"):
        return order.fulfilments.filter(supplier_id__in=supplier_ids_of(user)).exists()
    if role == "viewer":
        return order.buyer_id == user.id or can_see_order(user, order.pk)
    return False


def orders_as(user, role: str) -> QuerySet[Order]:
    if role == "shop":
        queryset = Order.objects.filter(shop__owner=user)
    elif role == "supplier":
        queryset = Order.objects.filter(
            Exists(
                Fulfilment.objects.filter(
                    order=OuterRef("pk"), supplier_id__in=supplier_ids_of(user)
                )
            )
        )
    else:
        queryset = Order.objects.filter(buyer=user)
    return with_details(queryset).order_by("-id")


# A fragment of SQL and its parameters, to be read in the same statement.
Fragment = tuple[str, list]


def lock_skus_with_prices(
    shop_id: int, sku_ids: list[int], *, also: dict[str, Fragment] | None = None
) -> list[SKU]:
    """The SKUs with their products and suppliers and, as `shop_price`, this
    shop's price (None when it does not sell one), their rows locked in
    primary-key order (so two orders never wait on each other in a cycle): the
    start of taking stock, in one query. `also`: scalar subqueries (SQL that may
    refer to the shop's id as `shop.id`) to annotate every row with, read in
    the same statement."""
    return _lock_skus("shop.id = %s", shop_id, sku_ids, also or {})


def lock_skus_with_shop(
    handle: str, sku_ids: list[int], *, also: dict[str, Fragment] | None = None
) -> tuple[Shop | None, list[SKU]]:
    """`lock_skus_with_prices` for the active shop of this handle, found in the
    same query (its id, keeper and state as columns of every row): the same
    SKU rows locked in the same order, with the shop. The shop is None when
    there is no such active shop, or when none of the SKUs exists (then nothing
    says whether the shop does)."""
    skus = _lock_skus("shop.handle = %s AND shop.is_active", handle.lower(), sku_ids, also or {})
    first = skus[0] if skus else None
    if first is None or first.at_shop_id is None:  # type: ignore[attr-defined]
        return None, skus
    known = {
        "id": first.at_shop_id,  # type: ignore[attr-defined]
        "owner_id": first.at_shop_owner_id,  # type: ignore[attr-defined]
        "handle": handle.lower(),
        "is_active": True,
        "is_suspended": bool(first.at_shop_is_suspended),  # type: ignore[attr-defined]
    }
    # Only these fields are loaded; any other is read if ever asked for (deferred).
    names = [field.attname for field in Shop._meta.concrete_fields if field.attname in known]
    shop = Shop.from_db(SKU.objects.db, names, [known[name] for name in names])
    return shop, skus


def _lock_skus(
    shop_is: str, shop_key: int | str, sku_ids: list[int], also: dict[str, Fragment]
) -> list[SKU]:
    # Written out: every order starts with this statement, and compiling it as
    # a queryset (select_related, one subquery per shop column, the price and
    # the caller's fragments) cost ten times running it.
    if not sku_ids:
        return []
    extra = "".join(
        f", {sql} AS {connection.ops.quote_name(name)}" for name, (sql, _) in also.items()
    )
    sql = (
        f"SELECT {rows.columns(SKU, 'sku')}, {rows.columns(Product, 'product')},"
        f" {rows.columns(Supplier, 'supplier')}, shop.id, shop.owner_id, shop.is_suspended,"
        f" (SELECT price.retail_price FROM {SelectionPrice._meta.db_table} price"
        f" WHERE price.shop_id = shop.id AND price.sku_id = sku.id){extra}"
        f" FROM {SKU._meta.db_table} sku"
        f" JOIN {Product._meta.db_table} product ON product.id = sku.product_id"
        f" JOIN {Supplier._meta.db_table} supplier ON supplier.id = sku.supplier_id"
        f" LEFT JOIN {Shop._meta.db_table} shop ON {shop_is}"
        f" WHERE sku.id IN ({rows.placeholders(len(sku_ids))})"
        f" ORDER BY sku.id{rows.for_update(of='sku')}"
    )
    params = [value for _, values in also.values() for value in values]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, shop_key, *sku_ids])
        found = cursor.fetchall()
    skus = []
    for row in found:
        sku, sku.product, sku.supplier, shop_id, owner_id, is_suspended, price, *annotations = (
            rows.split(row, SKU, Product, Supplier)
        )
        sku.at_shop_id, sku.at_shop_owner_id = shop_id, owner_id  # type: ignore[attr-defined]
        sku.at_shop_is_suspended = is_suspended  # type: ignore[attr-defined]
        sku.shop_price = price  # type: ignore[attr-defined]
        for name, value in zip(also, annotations, strict=True):
            setattr(sku, name, value)
        skus.append(sku)
    return skus


def lines_in_memory(order: Order) -> list[OrderLine] | None:
    """The lines attached to `order` as prefetched (by `with_details`, or by the
    capture, which read them under the order's lock), or None when they are not
    at hand and must be read."""
    cached = getattr(order, "_prefetched_objects_cache", {}).get("lines")
    return None if cached is None else list(cached)


def lines_with_fulfilments(order_id: int) -> list[OrderLine]:
    """An order's lines in primary-key order, each with its fulfilment: read
    at every capture, so written out."""
    line_table, fulfilment_table = OrderLine._meta.db_table, Fulfilment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(OrderLine, 'line')}, {rows.columns(Fulfilment, 'part')}"
            f" FROM {line_table} line JOIN {fulfilment_table} part ON part.id = line.fulfilment_id"
            " WHERE line.order_id = %s ORDER BY line.id",
            [order_id],
        )
        found = cursor.fetchall()
    lines = []
    for row in found:
        line, line.fulfilment = rows.split(row, OrderLine, Fulfilment)
        lines.append(line)
    return lines


def lock_order(order_id: int) -> Order:
    """Every change to an order starts here, so concurrent changes queue. Lock
    order: an order before its refunds and payments."""
    order = lock_order_or_none(order_id)
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    return order


def lock_order_or_none(order_id: int | Fragment) -> Order | None:
    """lock_order, or None; `order_id` may be a scalar subquery that finds it
    (the order of a payment, say), so that finding and locking the order is one
    statement. Written out, as every change to an order starts here."""
    sql, params = order_id if isinstance(order_id, tuple) else ("%s", [order_id])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(Order, 'o')} FROM {Order._meta.db_table} o"
            f" WHERE o.id = {sql}{rows.for_update()}",
            params,
        )
        row = cursor.fetchone()
    return None if row is None else rows.instance(Order, row)


def lock_refund(refund_id: int) -> Refund:
    refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
    if refund is None:
        raise NotFound("No such refund.", code="refund_not_found")
    return refund


def refunds_visible_to(user) -> QuerySet[Refund]:
    if user.is_staff:
        return Refund.objects.all()
    supplies_it = Exists(
        Fulfilment.objects.filter(order=OuterRef("order"), supplier__memberships__user=user)
    )
    return Refund.objects.filter(Q(order__buyer=user) | Q(order__shop__owner=user) | Q(supplies_it))


def unpaid_units(*, buyer, sku_ids: list[int], at) -> dict[int, int]:
    """SKU id → units on the unpaid orders of `buyer` and of every account
    linked to them (one identifier in common: phone, device or payer account)
    that can still be paid at `at`, in one query whatever their history.
    Consumer orders only: wholesale orders have the holding cap instead.
    Written out: every order counts these, under its SKUs' lock."""
    if not sku_ids:
        return {}
    linked, linked_params = _linked_buyers_sql(buyer.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT line.sku_id, SUM(line.quantity) FROM {OrderLine._meta.db_table} line"
            f" JOIN {Order._meta.db_table} o ON o.id = line.order_id"
            f" WHERE line.sku_id IN ({rows.placeholders(len(sku_ids))})"
            " AND o.status = %s AND o.payment_deadline > %s AND NOT line.is_wholesale"
            f" AND (o.buyer_id = %s OR o.buyer_id IN ({linked})) GROUP BY line.sku_id",
            [
                *sku_ids,
                Order.Status.PENDING_PAYMENT.value,
                connection.ops.adapt_datetimefield_value(at),
                buyer.pk,
                *linked_params,
            ],
        )
        return {sku_id: int(units) for sku_id, units in cursor.fetchall()}


def _linked_buyers_sql(user_id: int) -> Fragment:
    """The accounts sharing an identifier (phone, device or payer account) with
    this one, itself included when it has any: the linked-identity rule, as SQL."""
    table = Identifier._meta.db_table
    return (
        f"SELECT them.user_id FROM {table} them WHERE EXISTS (SELECT 1 FROM {table} mine"
        " WHERE mine.user_id = %s AND mine.kind = them.kind AND mine.value = them.value)",
        [user_id],
    )


def _linked_to(buyer) -> Q:
    """Orders of `buyer` or of any account sharing an identifier with them."""
    return Q(buyer=buyer) | Q(buyer_id__in=RawSQL(*_linked_buyers_sql(buyer.pk)))


def campaign_units_of(*, buyer, allotment_id: int) -> int:
    """Units (a group: seats) that `buyer` and every account linked to them
    hold from an allotment on orders not cancelled, paid or not: one query."""
    total = (
        Order.objects.filter(allotment_id=allotment_id)
        .exclude(status=Order.Status.CANCELLED)
        .filter(_linked_to(buyer))
        .aggregate(units=Sum("allotment_units"))["units"]
    )
    return total or 0


def lock_allotment(allotment_id: int) -> Allotment | None:
    return Allotment.objects.select_for_update().filter(pk=allotment_id).first()


class CaptureIdentities(TypedDict):
    """Who an order's money concerns, with each one's identifiers."""

    buyer: frozenset
    keeper_id: int | None
    keeper: frozenset
    beneficiaries: dict[int, frozenset]


def identities_at_capture(order: Order) -> CaptureIdentities:
    """The identifiers of an order's buyer, its shop's keeper and each sharer its
    lines would pay, in one query (a beneficiary with none has nothing to link)."""
    keeper = Shop.objects.filter(pk=order.shop_id).values("owner_id")
    beneficiaries = OrderLine.objects.filter(
        order_id=order.pk, commission_beneficiary__isnull=False
    ).values("commission_beneficiary_id")
    rows = (
        Identifier.objects.filter(
            Q(user_id=order.buyer_id)
            | Q(user_id__in=Subquery(keeper))
            | Q(user_id__in=beneficiaries)
        )
        .annotate(is_keeper=Exists(keeper.filter(owner_id=OuterRef("user_id"))))
        .values_list("user_id", "kind", "value", "is_keeper")
    )
    found: dict[int, set] = defaultdict(set)
    keeper_id = None
    for user_id, kind, value, is_keeper in rows:
        found[user_id].add((kind, value))
        if is_keeper:
            keeper_id = user_id
    return {
        "buyer": frozenset(found.get(order.buyer_id, ())),
        "keeper_id": keeper_id,
        "keeper": frozenset(found.get(keeper_id, ())) if keeper_id else frozenset(),
        "beneficiaries": {
            user_id: frozenset(values)
            for user_id, values in found.items()
            if user_id not in (order.buyer_id, keeper_id)
        },
    }


# ---- share links ---------------------------------------------------------------


class ShareStats(TypedDict):
    """What `my_shares` annotates each link with."""

    click_count: int
    order_count: int
    commission_total: int


def my_shares(user) -> QuerySet[WithAnnotations[ShareLink, ShareStats]]:
    """The user's share links, newest first, each annotated with `click_count`,
    `order_count` (distinct orders, neither cancelled nor fully refunded, attributed to the user through a
    click on this link) and `commission_total` (fen, from the rates frozen on
    the lines, each rounded down).
    Paginate it: the count and a page are two queries, whatever the history."""
    lines = OrderLine.objects.filter(
        attribution_click__link=OuterRef("pk"),
        commission_beneficiary_id=OuterRef("sharer_id"),
    ).exclude(order__status__in=(Order.Status.CANCELLED, Order.Status.REFUNDED))
    clicks = (
        Click.objects.filter(link=OuterRef("pk"))
        .order_by()
        .values("link")
        .annotate(n=Count("id"))
        .values("n")
    )
    orders = (
        lines.order_by()
        .values("attribution_click__link")
        .annotate(n=Count("order", distinct=True))
        .values("n")
    )
    commission = (
        lines.order_by()
        .values("attribution_click__link")
        .annotate(
            total=Sum(
                F("line_total") * F("commission_rate_bp") / Value(10_000),
                output_field=IntegerField(),
            )
        )
        .values("total")
    )
    return (
        ShareLink.objects.filter(sharer=user)
        .select_related("shop")
        .annotate(
            click_count=Coalesce(Subquery(clicks, output_field=IntegerField()), 0),
            order_count=Coalesce(Subquery(orders, output_field=IntegerField()), 0),
            commission_total=Coalesce(Subquery(commission, output_field=IntegerField()), 0),
        )
        .order_by("-created_at", "-id")
    )
