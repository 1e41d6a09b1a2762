"""Use cases of campaigns: the only writers of group buys, groups and flash
sales. Every function runs inside its caller's transaction.

Campaign orders are ordinary orders placed through orders, which also keeps the
campaign's limited units (`orders.Allotment`): a seat or a flash unit is taken
there with one conditional update under the SKU's lock, and a member's payment
counts towards the group there, under the order's lock, so that payments (below
campaigns) decide a group's completion without calling up. The group's row here
follows what its allotment records: the `decide_groups` job moves it to
succeeded or failed, and a failed group's orders are then cancelled or refunded
in full by `unwind_failed_groups`.

Lock order: a group's row, then its allotment; an order, then its allotment.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from kinshop.campaigns import queries, rules
from kinshop.campaigns.models import FlashSale, Group, GroupBuy, Presale, PresaleOrder
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.core.statemachine import record_creation, transition
from kinshop.orders import services as orders
from kinshop.orders.models import Allotment, Order
from kinshop.orders.rules import Address
from kinshop.payments import services as payments
from kinshop.shops.models import Shop

__all__ = ["Address"]

PROBLEMS = {
    "price_outside_band": "The price must be inside the supplier's retail band.",
    "price_below_cost": "The price must cover the supply price, the fee and the commission.",
    "invalid_group_size": "A group has 2 to 50 members.",
    "invalid_hours": "A group's time limit is 1 to 72 hours.",
    "ends_in_the_past": "The campaign must end in the future.",
    "leader_price_above_group_price": "The leader's price cannot be above the group price.",
    "invalid_units": "A flash sale offers at least 1 unit.",
    "invalid_per_buyer_limit": "The per-buyer limit is 1 to the units offered.",
    "invalid_window": "A flash sale ends after it starts.",
    "invalid_payment_minutes": "The payment deadline is 1 minute to 24 hours.",
    "invalid_deposit": "The deposit is 1 fen up to the price.",
    "invalid_balance_window": "The balance window ends after it opens.",
    "ships_before_balance": "The ship date cannot be before the balance window opens.",
}


def _problem(code: str | None) -> None:
    if code:
        raise InvalidInput(PROBLEMS[code], code=code)


def _sku_for_campaign(*, user, shop: Shop, sku_id: int) -> SKU:
    if shop.owner_id != user.id:
        raise Forbidden("Only the shop's keeper can run its campaigns.", code="not_shopkeeper")
    sku = SKU.objects.select_related("product", "supplier").filter(pk=sku_id).first()
    if sku is None or queries.shop_price(shop.id, sku_id) is None:
        raise InvalidInput("This shop does not sell that SKU.", code="sku_not_sold_here")
    if not sku.product.is_active or not sku.supplier.is_verified:
        raise Conflict("This SKU is not on the market.", code="not_on_market")
    return sku


def _check_price(price: int, sku: SKU) -> None:
    _problem(
        rules.price_problem(
            price,
            rules.SkuTerms(
                supply_price=sku.supply_price,
                retail_min=sku.retail_min,
                retail_max=sku.retail_max,
                commission_bp=sku.product.commission_rate_bp,
                fee_bp=settings.KINSHOP_PLATFORM_FEE_BP,
            ),
        )
    )


# ---- group buys ----------------------------------------------------------------


def create_group_buy(
    *,
    user,
    shop: Shop,
    sku_id: int,
    group_price: int,
    group_size: int,
    hours: int,
    ends_at: dt.datetime,
    leader_price: int | None = None,
) -> GroupBuy:
    """The shopkeeper offers a SKU at a group price (and maybe a lower leader
    price), each inside the band and covering the costs."""
    sku = _sku_for_campaign(user=user, shop=shop, sku_id=sku_id)
    now = clock.now()
    _problem(
        rules.group_buy_problem(
            group_size=group_size,
            hours=hours,
            ends_at=ends_at,
            now=now,
            group_price=group_price,
            leader_price=leader_price,
        )
    )
    _check_price(group_price, sku)
    if leader_price is not None:
        _check_price(leader_price, sku)
    group_buy = GroupBuy.objects.create(
        shop=shop,
        sku=sku,
        group_price=group_price,
        leader_price=leader_price,
        group_size=group_size,
        hours=hours,
        ends_at=ends_at,
        created_at=now,
    )
    record_creation(group_buy, actor=user, reason="created", at=now)
    return group_buy


def end_group_buy(*, user, group_buy_id: int) -> GroupBuy:
    """The shopkeeper ends a group buy: no new group starts; groups already
    forming go on until their own time is up."""
    group_buy = queries.lock_group_buy(group_buy_id)
    if group_buy is None:
        raise NotFound("No such group buy.", code="group_buy_not_found")
    if group_buy.shop.owner_id != user.id:
        raise Forbidden("Only the shop's keeper can end its campaigns.", code="not_shopkeeper")
    transition(group_buy, GroupBuy.Status.ENDED, actor=user, reason="ended by the shop")
    return group_buy


def start_group(
    *,
    user,
    group_buy_id: int,
    quantity: int,
    address: Address,
    share_code: str = "",
    device_id: str = "",
) -> tuple[Group, Order]:
    """The caller leads a new group: its first seat is theirs, at the leader
    price if there is one; the order is an ordinary order awaiting payment."""
    group_buy = queries.group_buy(group_buy_id)
    now = clock.now()
    if group_buy.status != GroupBuy.Status.ACTIVE or group_buy.ends_at <= now:
        raise Conflict("This group buy has ended.", code="group_closed")
    expires_at = rules.group_expiry(started_at=now, hours=group_buy.hours)
    allotment = Allotment.objects.create(
        shop=group_buy.shop,
        sku_id=group_buy.sku_id,
        kind=Allotment.Kind.GROUP,
        limit=group_buy.group_size,
        closes_at=expires_at,
        created_at=now,
    )
    group = Group.objects.create(
        allotment=allotment,
        group_buy=group_buy,
        shop=group_buy.shop,
        leader=user,
        expires_at=expires_at,
        created_at=now,
    )
    record_creation(group, actor=user, reason="started", at=now)
    order = orders.place_campaign_order(
        buyer=user,
        shop=group_buy.shop,
        sku_id=group_buy.sku_id,
        quantity=quantity,
        address=address,
        terms=orders.CampaignTerms(
            allotment_id=allotment.pk,
            unit_price=group_buy.leader_price or group_buy.group_price,
        ),
        share_code=share_code,
        device_id=device_id,
    )
    group.allotment.refresh_from_db()
    return group, order


def join_group(
    *,
    user,
    group_id: int,
    quantity: int,
    address: Address,
    share_code: str = "",
    device_id: str = "",
) -> tuple[Group, Order]:
    """The caller takes a seat in a forming group, atomically, before paying:
    409 `group_full`, `group_closed`, or `already_in_group` (the same buyer,
    or an account linked to a member by phone, device or payer account)."""
    group = queries.group(group_id)
    if group.status != Group.Status.FORMING:
        raise Conflict("This group is closed.", code="group_closed")
    order = orders.place_campaign_order(
        buyer=user,
        shop=group.shop,
        sku_id=group.group_buy.sku_id,
        quantity=quantity,
        address=address,
        terms=orders.CampaignTerms(allotment_id=group.pk, unit_price=group.group_buy.group_price),
        share_code=share_code,
        device_id=device_id,
    )
    group.allotment.refresh_from_db()
    return group, order


def group_status(group: Group, now: dt.datetime | None = None) -> str:
    """What a group is now: its recorded status once decided; while forming,
    what its allotment already says (every member paid: succeeded; its time
    passed or failure recorded: failed, as no payment can count any more)."""
    if group.status != Group.Status.FORMING:
        return group.status
    allotment = group.allotment
    return rules.group_outcome(
        size=allotment.limit,
        paid=allotment.paid,
        expired=allotment.failed_at is not None or group.expires_at <= (now or clock.now()),
    )


def decide_groups(*, now: dt.datetime, limit: int = 200) -> int:
    """Job: every forming group whose members have all paid succeeds; every one
    whose time is up by `now` fails (recorded in its allotment first, so that
    no later seat or payment can count). Idempotent."""
    due = list(queries.groups_to_decide(now).order_by("pk").values_list("pk", flat=True)[:limit])
    done = 0
    for group_id in due:
        group = queries.lock_group(group_id)
        if group is None or group.status != Group.Status.FORMING:
            continue
        outcome = orders.close_group(allotment_id=group.pk, at=now)
        if outcome == "succeeded":
            transition(group, Group.Status.SUCCEEDED, reason="every member paid", at=now)
            done += 1
        elif outcome == "failed":
            transition(group, Group.Status.FAILED, reason="time ran out", at=now)
            done += 1
    return done


def unwind_failed_groups(*, now: dt.datetime, limit: int = 200) -> int:
    """Job: the orders of failed groups: unpaid ones are cancelled (stock
    back), paid ones refunded in full through the provider (the ledger reverses
    their split and claws the commission back when the refund succeeds, and the
    stock comes back). Idempotent: an order handled once is no longer due."""
    due = list(queries.orders_to_unwind().order_by("pk").values_list("pk", flat=True)[:limit])
    for order_id in due:
        refund = orders.unwind_failed_group_order(order_id=order_id, at=now)
        if refund is not None:
            payments.send_approved_refund(refund=refund)
    return len(due)


# ---- flash sales ---------------------------------------------------------------


def create_flash_sale(
    *,
    user,
    shop: Shop,
    sku_id: int,
    price: int,
    units: int,
    per_buyer_limit: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    payment_minutes: int,
    live_room_id: int | None = None,
) -> FlashSale:
    """The shopkeeper offers `units` of a SKU at a price inside the band and
    covering the costs, in a window, with a per-buyer limit and a short payment
    deadline. The units still come out of the SKU's own stock when ordered.
    `live_room_id` is recorded as the caller (the live app) checked it."""
    sku = _sku_for_campaign(user=user, shop=shop, sku_id=sku_id)
    now = clock.now()
    _problem(
        rules.flash_sale_problem(
            units=units,
            per_buyer_limit=per_buyer_limit,
            starts_at=starts_at,
            ends_at=ends_at,
            payment_minutes=payment_minutes,
            now=now,
        )
    )
    _check_price(price, sku)
    allotment = Allotment.objects.create(
        shop=shop, sku=sku, kind=Allotment.Kind.FLASH, limit=units, created_at=now
    )
    return FlashSale.objects.create(
        shop=shop,
        sku=sku,
        allotment=allotment,
        price=price,
        units=units,
        per_buyer_limit=per_buyer_limit,
        starts_at=starts_at,
        ends_at=ends_at,
        payment_minutes=payment_minutes,
        created_at=now,
        live_room_id=live_room_id,
    )


def end_flash_sale(*, user, sale_id: int) -> FlashSale:
    """The shopkeeper ends a flash sale now, scheduled or running: nothing more
    can be bought in it (its allotment closes in the same transaction, so no
    order slips in after), while orders already placed are paid or cancelled
    at their deadline as usual. 409 `invalid_transition` once it is over."""
    sale = queries.lock_flash_sale(sale_id)
    if sale is None:
        raise NotFound("No such flash sale.", code="flash_sale_not_found")
    if sale.shop.owner_id != user.id:
        raise Forbidden("Only the shop's keeper can end its campaigns.", code="not_shopkeeper")
    now = clock.now()
    phase = rules.flash_phase(
        starts_at=sale.starts_at, ends_at=sale.ends_at, ended_at=sale.ended_at, now=now
    )
    if phase == "ended":
        raise Conflict("This flash sale is over already.", code="invalid_transition")
    sale.ended_at = now
    sale.save(update_fields=["ended_at"])
    orders.close_flash_allotment(allotment_id=sale.allotment_id, at=now)
    return sale


def buy_flash_sale(
    *,
    user,
    sale_id: int,
    quantity: int,
    address: Address,
    share_code: str = "",
    device_id: str = "",
    channel: str = "link",
) -> Order:
    """An order at the flash price while the sale is live: 409 `not_started`,
    `ended`, `sold_out` (never more than `units`, counted with one conditional
    update) or `limit_reached` (the buyer's and linked accounts' unpaid and
    paid units of this sale). An unpaid order is cancelled at its deadline and
    its units go back to the sale."""
    sale = queries.flash_sale(sale_id)
    phase = rules.flash_phase(
        starts_at=sale.starts_at, ends_at=sale.ends_at, ended_at=sale.ended_at, now=clock.now()
    )
    if phase == "scheduled":
        raise Conflict("This flash sale has not started.", code="not_started")
    if phase == "ended":
        raise Conflict("This flash sale has ended.", code="ended")
    return orders.place_campaign_order(
        buyer=user,
        shop=sale.shop,
        sku_id=sale.sku_id,
        quantity=quantity,
        address=address,
        terms=orders.CampaignTerms(
            allotment_id=sale.allotment_id,
            unit_price=sale.price,
            per_buyer_limit=sale.per_buyer_limit,
            payment_minutes=sale.payment_minutes,
        ),
        share_code=share_code,
        device_id=device_id,
        channel=channel,
    )


# ---- pre-sales -----------------------------------------------------------------


def create_presale(
    *,
    user,
    shop: Shop,
    sku_id: int,
    price: int,
    deposit: int,
    balance_starts_at: dt.datetime,
    balance_ends_at: dt.datetime,
    ships_on: dt.date,
) -> Presale:
    """The shopkeeper pre-sells a SKU at a price inside the band and covering
    the costs, for a deposit of 1 fen up to the price, the balance paid in a
    window, shipped on a date."""
    sku = _sku_for_campaign(user=user, shop=shop, sku_id=sku_id)
    now = clock.now()
    _problem(
        rules.presale_problem(
            price=price,
            deposit=deposit,
            balance_starts_at=balance_starts_at,
            balance_ends_at=balance_ends_at,
            ships_on=ships_on,
            now=now,
        )
    )
    _check_price(price, sku)
    return Presale.objects.create(
        shop=shop,
        sku=sku,
        price=price,
        deposit=deposit,
        balance_starts_at=balance_starts_at,
        balance_ends_at=balance_ends_at,
        ships_on=ships_on,
        created_at=now,
    )


def buy_presale(
    *,
    user,
    presale_id: int,
    quantity: int,
    address: Address,
    share_code: str = "",
    device_id: str = "",
) -> Order:
    """An order at the pre-sale price through the usual path (stock, the
    unpaid-units cap, attribution, commission), awaiting payment of the
    deposit alone; 409 `ended` once the balance window has closed."""
    presale = Presale.objects.select_related("shop").filter(pk=presale_id).first()
    if presale is None:
        raise NotFound("No such pre-sale.", code="presale_not_found")
    now = clock.now()
    if presale.balance_ends_at <= now:
        raise Conflict("This pre-sale has ended.", code="ended")
    order = orders.place_campaign_order(
        buyer=user,
        shop=presale.shop,
        sku_id=presale.sku_id,
        quantity=quantity,
        address=address,
        terms=orders.CampaignTerms(
            allotment_id=0,
            unit_price=presale.price,
            deposit_per_unit=presale.deposit,
            balance_starts_at=presale.balance_starts_at,
            balance_ends_at=presale.balance_ends_at,
            ships_on=presale.ships_on,
        ),
        share_code=share_code,
        device_id=device_id,
    )
    PresaleOrder.objects.create(presale=presale, order=order)
    return order
