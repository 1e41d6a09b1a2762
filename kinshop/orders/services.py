"""Use cases of ordering, fulfilment and after-sales. The only writers of orders.

Every function runs inside its caller's transaction (one per request or job) and
changes an order only after locking it through `queries.lock_order`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q

from kinshop.accounts import services as accounts
from kinshop.accounts.rules import normalise_phone
from kinshop.catalog import rules as catalog_rules
from kinshop.catalog import services as catalog
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.core.statemachine import check_transition, record_creation, transition, transition_all
from kinshop.orders import queries, rules
from kinshop.orders.models import (
    Allotment,
    Fulfilment,
    Order,
    OrderLine,
    Refund,
    RefundLine,
)
from kinshop.orders.rules import Address, LineRequest
from kinshop.sharing import rules as sharing_rules
from kinshop.sharing import services as sharing
from kinshop.shops import queries as shop_queries
from kinshop.shops.models import Shop

__all__ = ["Address", "CampaignTerms", "LineRequest"]

# ---- placing and cancelling --------------------------------------------------


def place_order(
    *,
    buyer,
    shop: Shop | str,
    lines: Iterable[LineRequest],
    address: Address,
    share_code: str = "",
    device_id: str = "",
    channel: str = "link",
) -> Order:
    """A consumer orders SKUs a shop sells, at the shop's prices. Stock is taken
    now (never oversold) and comes back if the order is not paid in time; a
    buyer (with their linked identities) holds at most
    `KINSHOP_MAX_UNPAID_UNITS` unpaid units of a SKU. The sharer who brought the
    buyer is frozen on every line with the evidence, or, when they may not earn
    on this buyer, the refusal and its reason; so are prices and rates. The
    recipient phone and the device are kept as the buyer's identifiers first,
    so that this very order counts for linked identities. Constant SQL whatever
    the number of lines. `shop`: the shop, or the handle of an active shop
    (then read with the SKUs, in the same query; 404 when there is none)."""
    return _place(
        buyer=buyer,
        shop=shop,
        lines=lines,
        address=address,
        share_code=share_code,
        device_id=device_id,
        channel=channel,
    )


@dataclass(frozen=True)
class CampaignTerms:
    """What a campaign (decided above orders) asks of one order: its unit
    price, the allotment it takes from, and the limits to check under the SKU's
    lock. `per_buyer_limit` (flash) counts the units on the buyer's and their
    linked identities' orders of this allotment that are not cancelled;
    `payment_minutes` replaces the usual payment window; a group order's
    deadline never passes the group's own. A pre-sale (预售, no allotment:
    `allotment_id` 0) sets `deposit_per_unit` and its balance window and ship
    date, recorded on the order for payments to read."""

    allotment_id: int
    unit_price: int
    per_buyer_limit: int = 0
    payment_minutes: int | None = None
    deposit_per_unit: int = 0
    balance_starts_at: dt.datetime | None = None
    balance_ends_at: dt.datetime | None = None
    ships_on: dt.date | None = None


def place_campaign_order(
    *,
    buyer,
    shop: Shop,
    sku_id: int,
    quantity: int,
    address: Address,
    terms: CampaignTerms,
    share_code: str = "",
    device_id: str = "",
    channel: str = "link",
) -> Order:
    """An order at a campaign's price, through the same path as any order
    (stock, the unpaid-units cap, attribution and commission), that also takes
    from the campaign's allotment with one conditional update: a flash sale's
    units (409 `sold_out`, `limit_reached`) or one seat of a group (409
    `group_full`, `group_closed`, `already_in_group`, counting accounts linked
    to the buyer as the buyer). The SKU's row is locked first, so two orders of
    the same campaign are checked one after the other."""
    return _place(
        buyer=buyer,
        shop=shop,
        lines=[LineRequest(sku_id, quantity)],
        address=address,
        share_code=share_code,
        device_id=device_id,
        channel=channel,
        terms=terms,
    )


def _place(
    *,
    buyer,
    shop: Shop | str,
    lines: Iterable[LineRequest],
    address: Address,
    share_code: str = "",
    device_id: str = "",
    channel: str = "link",
    terms: CampaignTerms | None = None,
) -> Order:
    try:
        quantities = rules.merge_lines(lines)
    except ValueError as error:
        if isinstance(shop, str):
            _active_shop(shop)  # no such shop: that is the answer
        raise InvalidInput(LINE_PROBLEMS[str(error)], code=str(error)) from None
    # One read of the SKUs, their products, suppliers and this shop's prices
    # (and, given a handle, the shop; and the buyer's last click on this shop,
    # for attribution), which also locks the SKU rows in primary-key order for
    # taking stock.
    last_click = {
        "last_click_id": sharing.last_click_sql(buyer_id=buyer.pk, at=clock.now(), shop="shop.id")
    }
    if isinstance(shop, str):
        found, locked = queries.lock_skus_with_shop(shop, list(quantities), also=last_click)
        shop = found or _active_shop(shop)
    else:
        locked = None
    if problem := rules.address_problem(address):
        raise InvalidInput("The delivery address is incomplete.", code=problem)
    if not shop.is_active:
        raise NotFound("No such shop.", code="shop_not_found")
    if shop.is_suspended:
        raise Conflict("This shop is closed to new orders.", code="suspended")
    if locked is None:
        locked = queries.lock_skus_with_prices(shop.id, list(quantities), also=last_click)
    skus = {sku.id: sku for sku in locked}
    if unknown := sorted(set(quantities) - set(skus)):
        raise InvalidInput("Some SKUs do not exist.", code="unknown_sku", sku_ids=unknown)
    prices = {sku.id: sku.shop_price for sku in skus.values() if sku.shop_price is not None}  # type: ignore[attr-defined]
    not_sold = [
        sku_id
        for sku_id, sku in skus.items()
        if sku_id not in prices or not sku.product.is_active or not sku.supplier.is_verified
    ]
    if not_sold:
        raise InvalidInput(
            "This shop does not sell some of these SKUs.",
            code="sku_not_sold_here",
            sku_ids=not_sold,
        )
    if terms is not None:
        prices = dict.fromkeys(prices, terms.unit_price)

    now = clock.now()
    recipient_phone = normalise_phone(address.phone)
    accounts.note_identifiers(user=buyer, phones=[recipient_phone], devices=[device_id], at=now)
    decision = sharing.resolve_attribution(
        buyer=buyer,
        shop=shop,
        share_code=share_code or "",
        at=now,
        channel=channel,
        known_last_click_id=next(iter(skus.values())).last_click_id,  # type: ignore[attr-defined]
    )
    attribution = decision.attribution
    fee_bp = settings.KINSHOP_PLATFORM_FEE_BP
    for sku_id, sku in skus.items():
        commission_bp = sku.product.commission_rate_bp if attribution else 0
        if not catalog_rules.margin_is_covered(
            price=prices[sku_id],
            supply_price=sku.supply_price,
            commission_bp=commission_bp,
            fee_bp=fee_bp,
        ):
            raise Conflict(
                "This price no longer covers its costs.", code="price_below_cost", sku_id=sku_id
            )

    allotment = None
    if terms is not None and terms.allotment_id:
        # Under the SKU's lock: every order of this campaign queues here.
        allotment = _take_allotment(buyer=buyer, terms=terms, quantities=quantities, at=now)
    catalog.take_locked_stock(
        quantities=quantities, stock={sku_id: sku.stock for sku_id, sku in skus.items()}
    )
    # Counted after the stock is taken: the SKU rows stay locked until commit,
    # so two orders of one SKU (by one person's accounts or anyone's) queue
    # here, and the second counts the first.
    _refuse_over_unpaid_cap(
        requested=quantities,
        unpaid=queries.unpaid_units(buyer=buyer, sku_ids=list(quantities), at=now),
    )
    deadline = now + dt.timedelta(minutes=settings.KINSHOP_PAYMENT_TIMEOUT_MINUTES)
    if terms is not None and terms.payment_minutes is not None:
        deadline = now + dt.timedelta(minutes=terms.payment_minutes)
    if allotment is not None and allotment.closes_at is not None:
        deadline = min(deadline, allotment.closes_at)
    return _create_order(
        buyer=buyer,
        shop=shop,
        skus=skus,
        quantities=quantities,
        unit_prices=prices,
        address=address,
        recipient_phone=recipient_phone,
        share_code=share_code or "",
        decision=decision,
        at=now,
        payment_deadline=deadline,
        allotment=allotment,
        allotment_units=_units_taken(allotment, quantities),
        presale=terms if terms is not None and terms.deposit_per_unit else None,
    )


def _active_shop(handle: str) -> Shop:
    shop = shop_queries.shop_by_handle(handle)
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    return shop


def _units_taken(allotment: Allotment | None, quantities: dict[int, int]) -> int:
    """A flash order takes its units; a group order one seat, whatever its quantity."""
    if allotment is None:
        return 0
    return 1 if allotment.kind == Allotment.Kind.GROUP else sum(quantities.values())


def _take_allotment(
    *, buyer, terms: CampaignTerms, quantities: dict[int, int], at: dt.datetime
) -> Allotment:
    allotment = Allotment.objects.filter(pk=terms.allotment_id).first()
    if allotment is None or set(quantities) != {allotment.sku_id}:
        raise NotFound("No such campaign.", code="campaign_not_found")
    units = sum(quantities.values())
    if allotment.kind == Allotment.Kind.GROUP:
        if queries.campaign_units_of(buyer=buyer, allotment_id=allotment.pk):
            raise Conflict(
                "You (or an account linked to you) already have a seat in this group.",
                code="already_in_group",
            )
        claimed = Allotment.objects.filter(
            pk=allotment.pk,
            taken__lt=F("limit"),
            completed_at__isnull=True,
            failed_at__isnull=True,
            closes_at__gt=at,
        ).update(taken=F("taken") + 1)
        if not claimed:
            allotment.refresh_from_db()
            if allotment.failed_at or (allotment.closes_at and allotment.closes_at <= at):
                raise Conflict("This group is closed.", code="group_closed")
            raise Conflict("This group is full.", code="group_full")
        allotment.taken += 1
        return allotment
    if terms.per_buyer_limit:
        held = queries.campaign_units_of(buyer=buyer, allotment_id=allotment.pk)
        if held + units > terms.per_buyer_limit:
            raise Conflict(
                f"At most {terms.per_buyer_limit} units per buyer in this sale.",
                code="limit_reached",
                limit=terms.per_buyer_limit,
                held=held,
            )
    # A flash sale's units are taken until it is closed (ended early by its
    # shop), in the same conditional update: no order slips in after the end.
    taken = (
        Allotment.objects.filter(pk=allotment.pk, taken__lte=F("limit") - units)
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=at))
        .update(taken=F("taken") + units)
    )
    if not taken:
        allotment.refresh_from_db()
        if allotment.closes_at is not None and allotment.closes_at <= at:
            raise Conflict("This flash sale has ended.", code="ended")
        raise Conflict("Sold out.", code="sold_out")
    allotment.taken += units
    return allotment


def place_wholesale_order(
    *,
    shop: Shop,
    skus: dict[int, SKU],
    quantities: dict[int, int],
    unit_prices: dict[int, int],
    address: Address,
) -> Order:
    """The shopkeeper buys stock for offline resale (批发) at the prices the
    wholesale app has decided (the supplier's tiers) and under its holding cap.
    Paid, shipped and refunded like any order, but with no sharer and no
    commission: nothing here can pay anyone for someone else's buying. The
    unpaid-units cap of consumer orders does not apply (the holding cap does)."""
    catalog.reserve_stock(quantities=quantities)
    return _create_order(
        buyer=shop.owner,
        shop=shop,
        skus=skus,
        quantities=quantities,
        unit_prices=unit_prices,
        address=address,
        recipient_phone=normalise_phone(address.phone),
        share_code="",
        decision=None,
        at=clock.now(),
        is_wholesale=True,
    )


def _create_order(
    *,
    buyer,
    shop: Shop,
    skus: dict[int, SKU],
    quantities: dict[int, int],
    unit_prices: dict[int, int],
    address: Address,
    recipient_phone: str,
    share_code: str,
    decision: sharing.Decision | None,
    at: dt.datetime,
    is_wholesale: bool = False,
    payment_deadline: dt.datetime | None = None,
    allotment: Allotment | None = None,
    allotment_units: int = 0,
    presale: CampaignTerms | None = None,
) -> Order:
    """Write an order, one fulfilment per supplier and its lines, with prices,
    rates and the beneficiary (or why the would-be sharer earns nothing, with
    the evidence) frozen, in a constant number of statements. A wholesale
    line's unit supply price is what the shop pays: the supplier's payable is
    that less the platform fee (the ledger's `line_split`)."""
    attribution = decision.attribution if decision else None
    click_id = decision.click_id if decision else None
    fee_bp = settings.KINSHOP_PLATFORM_FEE_BP
    total = sum(unit_prices[sku_id] * quantity for sku_id, quantity in quantities.items())
    order = Order.objects.create(
        buyer=buyer,
        shop=shop,
        total=total,
        currency=settings.KINSHOP_CURRENCY,
        recipient_name=address.name.strip(),
        recipient_phone=recipient_phone,
        region=address.region.strip(),
        address_detail=address.detail.strip(),
        share_code=share_code[:16],
        is_wholesale=is_wholesale,
        payment_deadline=payment_deadline
        or at + dt.timedelta(minutes=settings.KINSHOP_PAYMENT_TIMEOUT_MINUTES),
        created_at=at,
        allotment=allotment,
        allotment_units=allotment_units,
        campaign=allotment.kind if allotment is not None else ("presale" if presale else ""),
        awaiting_group=allotment is not None and allotment.kind == Allotment.Kind.GROUP,
        deposit=presale.deposit_per_unit * sum(quantities.values()) if presale else 0,
        balance_starts_at=presale.balance_starts_at if presale else None,
        balance_ends_at=presale.balance_ends_at if presale else None,
        ships_on=presale.ships_on if presale else None,
    )
    supplier_ids = sorted({sku.supplier_id for sku in skus.values()})
    fulfilments = Fulfilment.objects.bulk_create(
        [Fulfilment(order=order, supplier_id=supplier_id) for supplier_id in supplier_ids]
    )
    fulfilment_of = {fulfilment.supplier_id: fulfilment for fulfilment in fulfilments}
    for fulfilment in fulfilments:
        fulfilment.supplier = next(
            sku.supplier for sku in skus.values() if sku.supplier_id == fulfilment.supplier_id
        )
    order_lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                fulfilment=fulfilment_of[sku.supplier_id],
                shop=shop,
                supplier_id=sku.supplier_id,
                product_id=sku.product_id,
                sku=sku,
                title=sku.product.title,
                sku_name=sku.name,
                quantity=quantities[sku_id],
                unit_price=unit_prices[sku_id],
                line_total=unit_prices[sku_id] * quantities[sku_id],
                unit_supply_price=unit_prices[sku_id] if is_wholesale else sku.supply_price,
                commission_rate_bp=sku.product.commission_rate_bp if attribution else 0,
                platform_fee_bp=fee_bp,
                commission_beneficiary_id=attribution.beneficiary_id if attribution else None,
                attribution_click_id=click_id,
                attribution_policy=decision.policy if decision and click_id else "",
                attribution_note=decision.note[:120] if decision and click_id else "",
                commission_refusal=decision.refusal if decision else "",
                is_wholesale=is_wholesale,
            )
            for sku_id, sku in sorted(skus.items())
        ]
    )
    record_creation(order, actor=buyer, reason="placed", at=at)
    record_creation(*fulfilments, actor=buyer, reason="placed", at=at)
    # What was just written is what the caller shows: no reading it back.
    order.shop = shop
    _as_prefetched(order, lines=order_lines, fulfilments=fulfilments)
    return order


def _as_prefetched(order: Order, **related: list) -> None:
    """Attach rows just written to `order` as prefetch_related would (a query
    set whose results are already known), so `order.lines.all()` and the like
    read nothing; any other use of the manager still queries."""
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(order, name).get_queryset()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[name] = queryset


def _read_lines_and_fulfilments(order: Order) -> None:
    """Read an order's lines with their fulfilments in one query, under the
    order's lock, and attach both to `order` as prefetched: the capture's
    later readers (the ledger's split, the fraud screening) take them from
    memory. Every fulfilment has lines (they are written together), so none
    is missed; lines of one supplier share one fulfilment object."""
    lines = queries.lines_with_fulfilments(order.pk)
    fulfilments: dict[int, Fulfilment] = {}
    for line in lines:
        line.fulfilment = fulfilments.setdefault(line.fulfilment_id, line.fulfilment)
        line.order = order
    _as_prefetched(order, lines=lines, fulfilments=[fulfilments[pk] for pk in sorted(fulfilments)])


def _refuse_over_unpaid_cap(*, requested: dict[int, int], unpaid: dict[int, int]) -> None:
    """Consumer orders only: a wholesale order (its own service) has the
    holding cap instead and never comes here."""
    cap = settings.KINSHOP_MAX_UNPAID_UNITS
    if over := rules.unpaid_units_over_cap(requested=requested, unpaid=unpaid, cap=cap):
        raise Conflict(
            f"At most {cap} unpaid units of one item at a time: pay or cancel your "
            "unpaid orders first.",
            code="too_many_unpaid",
            sku_ids=over,
            limit=cap,
        )


LINE_PROBLEMS = {
    "quantity_not_positive": "Every quantity must be at least 1.",
    "no_lines": "An order needs at least one line.",
    "too_many_lines": f"An order holds at most {rules.MAX_DISTINCT_LINES} different SKUs.",
    "quantity_too_large": f"At most {rules.MAX_QUANTITY} units of one SKU per order.",
}


def _release(order: Order, *, actor=None, reason: str, at: dt.datetime | None = None) -> None:
    quantities: dict[int, int] = defaultdict(int)
    for sku_id, quantity in order.lines.values_list("sku_id", "quantity"):
        quantities[sku_id] += quantity
    catalog.return_stock(quantities=dict(quantities))
    if order.allotment_id and order.allotment_units:
        # The flash units or the group seat go back to the campaign.
        Allotment.objects.filter(pk=order.allotment_id).update(
            taken=F("taken") - order.allotment_units
        )
    transition_all(
        list(order.fulfilments.all()),
        Fulfilment.Status.CANCELLED,
        actor=actor,
        reason=reason,
        at=at or order.cancelled_at,
    )


def cancel_order(*, user, order_id: int, reason: str = "") -> Order:
    """The buyer cancels before paying; the stock goes back at once."""
    order = queries.order_for(user, order_id, as_="buyer", lock=True)
    if order.status != Order.Status.PENDING_PAYMENT:
        # A pre-sale whose deposit is paid is not cancelled by hand: its
        # deposit goes back only if the balance is not paid in its window.
        raise Conflict(
            f"An order cannot go from '{order.status}' to 'cancelled'.",
            code="invalid_transition",
            current=order.status,
            target=Order.Status.CANCELLED,
        )
    reason = reason or "cancelled by buyer"
    transition(order, Order.Status.CANCELLED, actor=user, reason=reason)
    _release(order, actor=user, reason=reason)
    return order


def expire_unpaid(*, now: dt.datetime, limit: int = 500) -> int:
    """Job: cancel orders whose payment deadline has passed and free their stock.
    A payment that still arrives later is refunded, never shipped."""
    due = list(
        Order.objects.filter(status=Order.Status.PENDING_PAYMENT, payment_deadline__lte=now)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for order_id in due:
        order = queries.lock_order(order_id)
        if order.status != Order.Status.PENDING_PAYMENT:
            continue  # paid while we were getting here
        transition(order, Order.Status.CANCELLED, reason="payment deadline passed", at=now)
        _release(order, reason="payment deadline passed", at=now)
        done += 1
    return done


# ---- payment ------------------------------------------------------------------


def mark_paid(*, order: Order, at: dt.datetime, payer: str = "") -> bool:
    """Called by payments with the order locked, when its money is captured
    (payments then books the split in the ledger). `payer` is the payer account
    the provider reported (`accounts.rules.payer_identifier`): it joins the
    buyer's identifiers, and a sharer found linked to the buyer now is not paid
    (the margin keeps the commission). Returns False when the order can no
    longer take the money (cancelled, or already paid): the caller refunds it.
    A pre-sale order is paid by its balance: only once its deposit is in, and
    before the balance window closes."""
    if order.is_presale:
        if order.status != Order.Status.AWAITING_BALANCE or not (
            order.balance_ends_at and at < order.balance_ends_at
        ):
            return False
    elif order.status != Order.Status.PENDING_PAYMENT:
        return False
    if order.awaiting_group and not _count_group_payment(order, at=at):
        return False  # the group failed or its time is up: the caller refunds
    transition(order, Order.Status.PAID, reason="payment captured", at=at)
    _read_lines_and_fulfilments(order)
    transition_all(
        list(order.fulfilments.all()), Fulfilment.Status.TO_SHIP, reason="payment captured", at=at
    )
    if order.awaiting_group:
        _complete_group_if_full(order, at=at)
    accounts.note_identifiers(user=order.buyer_id, payers=[payer], at=at)
    _refuse_linked_commissions(order)
    return True


def mark_deposit_paid(*, order: Order, at: dt.datetime, payer: str = "") -> bool:
    """Called by payments with the order locked, when a pre-sale order's deposit
    is captured: the order awaits its balance (its parts are not shipped yet).
    False when it can no longer take a deposit: the caller refunds it."""
    if not order.is_presale or order.status != Order.Status.PENDING_PAYMENT:
        return False
    transition(order, Order.Status.AWAITING_BALANCE, reason="deposit captured", at=at)
    accounts.note_identifiers(user=order.buyer_id, payers=[payer], at=at)
    return True


def lapse_unpaid_balance(*, order_id: int, at: dt.datetime) -> bool:
    """A pre-sale order whose balance was not paid by the window's end is
    cancelled (stock back); payments then refunds its deposit. False, changing
    nothing, when the order was paid, closed or is not due: idempotent."""
    order = queries.lock_order(order_id)
    if order.status != Order.Status.AWAITING_BALANCE or not (
        order.balance_ends_at and order.balance_ends_at <= at
    ):
        return False
    transition(order, Order.Status.CANCELLED, reason="balance not paid in time", at=at)
    _release(order, reason="balance not paid in time", at=at)
    return True


def unpaid_balances_due(*, now: dt.datetime, limit: int = 500) -> list[int]:
    return list(
        Order.objects.filter(status=Order.Status.AWAITING_BALANCE, balance_ends_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def _count_group_payment(order: Order, *, at: dt.datetime) -> bool:
    """A member pays: counted with one conditional update of the group's
    allotment, only while the group can still succeed (neither failed nor past
    its time). The update locks the row, so a payment and the expiry job
    deciding the same group queue, and one outcome holds."""
    allotment_id = order.allotment_id or 0
    return bool(
        Allotment.objects.filter(
            pk=allotment_id,
            paid__lt=F("limit"),
            completed_at__isnull=True,
            failed_at__isnull=True,
            closes_at__gt=at,
        ).update(paid=F("paid") + 1)
    )


def _complete_group_if_full(order: Order, *, at: dt.datetime) -> None:
    """The last member has paid: the group is complete and every paid order of
    it may be shipped. Its campaign row learns it from `completed_at`."""
    allotment_id = order.allotment_id or 0
    if Allotment.objects.filter(pk=allotment_id, paid=F("limit"), completed_at__isnull=True).update(
        completed_at=at
    ):
        Order.objects.filter(allotment_id=allotment_id, status=Order.Status.PAID).update(
            awaiting_group=False
        )
        order.awaiting_group = False


def close_flash_allotment(*, allotment_id: int, at: dt.datetime) -> None:
    """A flash sale ended early by its shop: from `at` no unit of its allotment
    can be taken (orders placed before keep theirs, to be paid or cancelled at
    their deadline as usual)."""
    Allotment.objects.filter(pk=allotment_id, kind=Allotment.Kind.FLASH).filter(
        Q(closes_at__isnull=True) | Q(closes_at__gt=at)
    ).update(closes_at=at)


def close_group(*, allotment_id: int, at: dt.datetime) -> str:
    """The campaign's job asks whether a group is decided at `at`: "succeeded"
    when all its members have paid, "failed" when its time has passed first
    (recorded now, with one conditional update: no seat can be taken nor paid
    after it), "forming" otherwise."""
    allotment = queries.lock_allotment(allotment_id)
    if allotment is None or allotment.kind != Allotment.Kind.GROUP:
        raise NotFound("No such group.", code="group_not_found")
    if allotment.completed_at is not None:
        return "succeeded"
    if allotment.failed_at is not None:
        return "failed"
    if allotment.closes_at is not None and allotment.closes_at <= at:
        Allotment.objects.filter(pk=allotment.pk).update(failed_at=at)
        return "failed"
    return "forming"


def unwind_failed_group_order(*, order_id: int, at: dt.datetime) -> Refund | None:
    """A member's order of a failed group: cancelled if unpaid (stock back), or,
    if paid, refunded in full with its stock back, approved at once (the buyer
    asked nothing: the group did not happen). Returns the refund for payments
    to send; None when there was nothing to refund. Idempotent: an order
    already cancelled, or with a refund, is left alone."""
    order = queries.lock_order(order_id)
    allotment = Allotment.objects.filter(pk=order.allotment_id or 0).first()
    if allotment is None or allotment.failed_at is None:
        return None
    if order.status == Order.Status.PENDING_PAYMENT:
        transition(order, Order.Status.CANCELLED, reason="group failed", at=at)
        _release(order, reason="group failed", at=at)
        return None
    if order.status != Order.Status.PAID or order.refunds.exists():
        return None
    refund = Refund.objects.create(
        order=order,
        amount=order.refundable_amount,
        reason="group failed: full refund",
        restock=True,
        requested_by_id=order.buyer_id,
        created_at=at,
    )
    record_creation(refund, reason="group failed", at=at)
    transition(refund, Refund.Status.APPROVED, reason="group failed", at=at)
    return refund


def _refuse_linked_commissions(order: Order) -> None:
    """The linked-identity rule again, at capture, with what is known now (a
    payer account in common, a phone or device seen since the order): one
    query, and one more only for a line found linked; none when the lines,
    read at capture, pay no sharer (then nobody's commission is at stake)."""
    lines = queries.lines_in_memory(order)
    if lines is not None and all(line.commission_beneficiary_id is None for line in lines):
        return
    known = queries.identities_at_capture(order)
    buyer = sharing_rules.Person(id=order.buyer_id, identifiers=known["buyer"])
    keeper = sharing_rules.Person(id=known["keeper_id"] or 0, identifiers=known["keeper"])
    for sharer_id, identifiers in sorted(known["beneficiaries"].items()):
        refusal = sharing_rules.refusal(
            sharer=sharing_rules.Person(id=sharer_id, identifiers=identifiers),
            buyer=buyer,
            shopkeeper=keeper,
        )
        if refusal:
            refused = {
                "commission_beneficiary_id": None,
                "commission_rate_bp": 0,
                "commission_refusal": refusal.code,
                "attribution_note": f"{refusal.code} at payment: {refusal.evidence}"[:120],
            }
            OrderLine.objects.filter(order=order, commission_beneficiary_id=sharer_id).update(
                **refused
            )
            # The lines read at capture (if any) stay what the database holds.
            for line in queries.lines_in_memory(order) or ():
                if line.commission_beneficiary_id == sharer_id:
                    for field, value in refused.items():
                        setattr(line, field, value)


# ---- fulfilment ---------------------------------------------------------------


def ship(*, user, order_id: int, carrier: str, tracking_no: str) -> Fulfilment:
    """A supplier ships its own part of an order; the order is shipped when every
    part still owed is."""
    carrier, tracking_no = carrier.strip(), tracking_no.strip()
    if not carrier or not tracking_no:
        raise InvalidInput(
            "A shipment needs a carrier and a tracking number.", code="missing_tracking"
        )
    order = queries.order_for(user, order_id, as_="supplier", lock=True)
    if order.awaiting_group:
        raise Conflict("This order waits for its group to be complete.", code="group_not_complete")
    fulfilment = order.fulfilments.filter(supplier_id__in=queries.supplier_ids_of(user)).get()
    if fulfilment.status != Fulfilment.Status.TO_SHIP:
        raise Conflict(
            f"This part cannot be shipped now (it is {fulfilment.status}).",
            code="invalid_transition",
        )
    now = clock.now()
    fulfilment.carrier, fulfilment.tracking_no = carrier[:40], tracking_no[:60]
    transition(
        fulfilment,
        Fulfilment.Status.SHIPPED,
        actor=user,
        reason=f"{fulfilment.carrier} {fulfilment.tracking_no}",
        at=now,
        also=("carrier", "tracking_no"),
    )
    if not order.fulfilments.filter(status=Fulfilment.Status.TO_SHIP).exists():
        transition(order, Order.Status.SHIPPED, actor=user, reason="all parts shipped", at=now)
    return fulfilment


def confirm_receipt(*, user, order_id: int) -> Order:
    """The buyer confirms delivery; the after-sales window starts now."""
    order = queries.order_for(user, order_id, as_="buyer", lock=True)
    transition(order, Order.Status.COMPLETED, actor=user, reason="confirmed by buyer")
    return order


def auto_confirm(*, now: dt.datetime, limit: int = 500) -> int:
    """Job: orders shipped N days ago complete by themselves."""
    cutoff = now - dt.timedelta(days=settings.KINSHOP_AUTO_CONFIRM_DAYS)
    due = list(
        Order.objects.filter(status=Order.Status.SHIPPED, shipped_at__lte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for order_id in due:
        order = queries.lock_order(order_id)
        if order.status == Order.Status.SHIPPED:
            transition(order, Order.Status.COMPLETED, reason="auto-confirmed", at=now)
            done += 1
    return done


# ---- after-sales --------------------------------------------------------------

_REFUNDABLE = {Order.Status.PAID, Order.Status.SHIPPED, Order.Status.COMPLETED}
# A failed refund sent no money back (a refund that went back in part completes
# for that part, and its failed rest is a refund of its own): it no longer counts
# as asked for, and the buyer may ask again.
_OPEN_REFUND = {Refund.Status.REQUESTED, Refund.Status.APPROVED}


def _refund_scope(order: Order, supplier_id: int | None) -> list[OrderLine]:
    lines = list(order.lines.all())
    if supplier_id is not None:
        lines = [line for line in lines if line.supplier_id == supplier_id]
    return lines


def request_refund(
    *, user, order_id: int, amount: int, reason: str, supplier_id: int | None = None
) -> Refund:
    """The buyer asks for money back until the after-sales window closes; an
    operator may at any time (arbitration). Never more than was paid, minus what
    is refunded or already asked for."""
    order = queries.order_for(user, order_id, as_="buyer_or_operator", lock=True)
    if order.status not in _REFUNDABLE:
        raise Conflict(f"A {order.status} order cannot be refunded.", code="invalid_transition")
    if order.awaiting_group:
        # Its group refunds it in full if it fails; a member leaving now would
        # make the group complete with fewer paid members than its size.
        raise Conflict(
            "This order waits for its group: it is refunded in full if the group fails.",
            code="group_not_complete",
        )
    now = clock.now()
    if not user.is_staff and not rules.after_sales_open(
        completed_at=order.completed_at, now=now, days=settings.KINSHOP_AFTER_SALES_DAYS
    ):
        raise Conflict("The after-sales window has closed.", code="after_sales_closed")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why you want a refund.", code="missing_reason")
    supplier_ids = sorted({fulfilment.supplier_id for fulfilment in order.fulfilments.all()})
    if supplier_id is None and len(supplier_ids) == 1:
        supplier_id = supplier_ids[0]
    elif supplier_id is not None and supplier_id not in supplier_ids:
        raise InvalidInput("That supplier has no part in this order.", code="unknown_supplier")
    scope = _refund_scope(order, supplier_id)
    refundable = sum(line.line_total - line.refunded_amount for line in scope)
    asked = sum(
        refund.amount
        for refund in order.refunds.filter(status__in=_OPEN_REFUND)
        if supplier_id is None or refund.supplier_id in (None, supplier_id)
    )
    if amount < 1:
        raise InvalidInput("A refund is at least 1 fen.", code="invalid_amount")
    if amount > refundable - asked:
        raise InvalidInput(
            f"At most {max(refundable - asked, 0)} fen can still be refunded.",
            code="refund_exceeds_paid",
            refundable=max(refundable - asked, 0),
        )
    refund = Refund.objects.create(
        order=order,
        supplier_id=supplier_id,
        amount=amount,
        reason=reason[:500],
        requested_by=user,
        created_at=now,
    )
    record_creation(refund, actor=user, reason=reason, at=now)
    return refund


def _lock_order_then_refund(refund_id: int) -> Refund:
    """Order first, then refund: the one lock order every path follows."""
    order_id = Refund.objects.filter(pk=refund_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("No such refund.", code="refund_not_found")
    order = queries.lock_order(order_id)
    refund = queries.lock_refund(refund_id)
    refund.order = order
    return refund


def _can_decide(user, refund: Refund) -> bool:
    if user.is_staff:
        return True
    return refund.supplier_id is not None and refund.supplier_id in queries.supplier_ids_of(user)


def approve_refund(*, user, refund_id: int, restock: bool = False, note: str = "") -> Refund:
    """The supplier's staff (or the operator, overriding) approve. Payments, which
    calls this, then sends the money back through the provider that took it."""
    refund = _lock_order_then_refund(refund_id)
    if not _can_decide(user, refund):
        if refund.order.buyer_id == user.id or refund.order.shop.owner_id == user.id:
            raise Forbidden(
                "Only the supplier's staff or an operator can approve.", code="not_allowed"
            )
        raise NotFound("No such refund.", code="refund_not_found")
    refund.restock = restock
    refund.decided_by, refund.decision_note = user, note[:500]
    transition(
        refund,
        Refund.Status.APPROVED,
        actor=user,
        reason=note,
        also=("restock", "decided_by", "decision_note"),
    )
    return refund


def reject_refund(*, user, refund_id: int, note: str = "") -> Refund:
    refund = _lock_order_then_refund(refund_id)
    if not _can_decide(user, refund):
        if refund.order.buyer_id == user.id or refund.order.shop.owner_id == user.id:
            raise Forbidden(
                "Only the supplier's staff or an operator can reject.", code="not_allowed"
            )
        raise NotFound("No such refund.", code="refund_not_found")
    refund.decided_by, refund.decision_note = user, note[:500]
    transition(
        refund,
        Refund.Status.REJECTED,
        actor=user,
        reason=note,
        also=("decided_by", "decision_note"),
    )
    return refund


def complete_refund(*, refund_id: int) -> tuple[Refund, dict[int, int]]:
    """The money is back with the buyer: allocate it over the lines pro rata and
    close the order if nothing is left. Returns the refund and its allocation
    `{line_id: fen}`, which payments books in the ledger. Idempotent: a refund
    completes once (a repeat returns the allocation recorded the first time)."""
    refund = _lock_order_then_refund(refund_id)
    if refund.status == Refund.Status.SUCCEEDED:
        return refund, dict(refund.allocations.values_list("line_id", "amount"))
    check_transition(refund, Refund.Status.SUCCEEDED)  # before any money moves
    return refund, _complete_locked(refund, reason="money returned")


def complete_refund_in_part(
    *, refund_id: int, returned: int
) -> tuple[Refund, dict[int, int], Refund]:
    """Part of an approved refund went back and the rest could not (one of the
    payments it was sent through refused it): the refund completes for what went
    back, allocated over the lines as any refund, and the rest moves to a new
    refund that failed, which the buyer may ask for again. Returns the refund,
    its allocation and the failed refund. Once: the refund is approved no more."""
    refund = _lock_order_then_refund(refund_id)
    check_transition(refund, Refund.Status.SUCCEEDED)  # before any money moves
    if not 0 < returned < refund.amount:
        raise InvalidInput(
            "What went back must be a part of the refund.",
            code="invalid_amount",
            amount=refund.amount,
            returned=returned,
        )
    now = clock.now()
    asked = refund.amount
    failed = Refund.objects.create(
        order_id=refund.order_id,
        supplier_id=refund.supplier_id,
        amount=asked - returned,
        reason=refund.reason,
        status=Refund.Status.FAILED,
        restock=refund.restock,
        requested_by_id=refund.requested_by_id,
        decided_by_id=refund.decided_by_id,
        decision_note=refund.decision_note,
        created_at=now,
        decided_at=refund.decided_at,
    )
    record_creation(failed, reason=f"the provider refused this part of refund #{refund.pk}", at=now)
    refund.amount = returned
    refund.save(update_fields=["amount"])
    allocations = _complete_locked(
        refund,
        reason=f"{returned} of {asked} fen returned; the rest failed as refund #{failed.pk}",
        at=now,
    )
    return refund, allocations, failed


def _complete_locked(
    refund: Refund, *, reason: str, at: dt.datetime | None = None
) -> dict[int, int]:
    """Complete an approved refund whose order and row the caller has locked."""
    order = refund.order
    scope = _refund_scope(order, refund.supplier_id)
    allocations = dict(
        rules.allocate_refund(
            refund.amount, [(line.id, line.line_total - line.refunded_amount) for line in scope]
        )
    )
    fully_refunded: dict[int, int] = defaultdict(int)
    for line in scope:
        share = allocations.get(line.id, 0)
        if share:
            line.refunded_amount += share
            if line.refunded_amount == line.line_total:
                fully_refunded[line.sku_id] += line.quantity
    OrderLine.objects.bulk_update(scope, ["refunded_amount"])
    RefundLine.objects.bulk_create(
        [
            RefundLine(refund=refund, line_id=line_id, amount=amount)
            for line_id, amount in allocations.items()
            if amount
        ]
    )
    now = at or clock.now()
    transition(refund, Refund.Status.SUCCEEDED, reason=reason, at=now)
    order.refunded_amount += refund.amount
    order.save(update_fields=["refunded_amount"])
    if refund.restock and fully_refunded:
        catalog.return_stock(quantities=dict(fully_refunded))
    if order.refunded_amount == order.total:
        transition(
            order, Order.Status.REFUNDED, actor=refund.decided_by, reason="fully refunded", at=now
        )
        transition_all(
            list(order.fulfilments.filter(status=Fulfilment.Status.TO_SHIP)),
            Fulfilment.Status.CANCELLED,
            actor=refund.decided_by,
            reason="fully refunded",
            at=now,
        )
    return allocations


def fail_refund(*, refund_id: int) -> Refund:
    """The provider could not send the money back. Idempotent: a refund fails once."""
    refund = _lock_order_then_refund(refund_id)
    if refund.status != Refund.Status.FAILED:
        transition(refund, Refund.Status.FAILED, reason="the provider refused the refund")
    return refund
