"""Use cases of live rooms. Every event a room sends is kept in the same
transaction as the change it reports and published after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from kinshop.accounts.models import User
from kinshop.campaigns import queries as campaign_queries
from kinshop.campaigns import services as campaigns
from kinshop.campaigns.models import FlashSale
from kinshop.core import clock, statemachine
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from kinshop.live import queries, rules
from kinshop.live.hub import hub
from kinshop.live.models import Event, LiveRoom, Message, Participant, Pin, RoomOrder, Visit
from kinshop.orders import services as orders
from kinshop.orders.models import Order
from kinshop.sharing import services as sharing
from kinshop.sharing.models import ShareLink
from kinshop.shops.models import Selection, Shop

# ---- rooms ----------------------------------------------------------------------


def _room(room_id: int, *, lock: bool = False) -> LiveRoom:
    room = queries.lock_room(room_id) if lock else queries.room(room_id)
    if room is None:
        raise NotFound("No such live room.", code="live_room_not_found")
    return room


def _keepers_room(user, room_id: int, *, lock: bool = False) -> LiveRoom:
    room = _room(room_id, lock=lock)
    if room.shop.owner_id != getattr(user, "pk", None):
        raise Forbidden("Only the shop's keeper runs its live rooms.", code="not_shopkeeper")
    return room


def create_room(
    *, user, shop: Shop, title: str, scheduled_at: dt.datetime, stream_url: str = ""
) -> LiveRoom:
    """A shopkeeper schedules a room of their shop. A stream is embedded only
    from a host the operator allows (KINSHOP_LIVE_STREAM_HOSTS)."""
    if shop.owner_id != getattr(user, "pk", None):
        raise Forbidden("Only the shop's keeper runs its live rooms.", code="not_shopkeeper")
    title = (title or "").strip()
    if not 1 <= len(title) <= 100:
        raise InvalidInput("A title has 1 to 100 characters.", code="invalid_title")
    stream_url = (stream_url or "").strip()
    if not rules.stream_host_allowed(stream_url, settings.KINSHOP_LIVE_STREAM_HOSTS):
        raise InvalidInput(
            "The stream must be an https address on an allowed host.", code="stream_not_allowed"
        )
    room = LiveRoom.objects.create(
        shop=shop, title=title, stream_url=stream_url, scheduled_at=scheduled_at
    )
    statemachine.record_creation(room, actor=user)
    return room


def start_room(*, user, room_id: int) -> LiveRoom:
    """scheduled → live; anything else 409 invalid_transition."""
    return _move(user=user, room_id=room_id, to=LiveRoom.Status.LIVE)


def end_room(*, user, room_id: int) -> LiveRoom:
    """live → ended; viewers' streams close after the `status` event."""
    return _move(user=user, room_id=room_id, to=LiveRoom.Status.ENDED)


def _move(*, user, room_id: int, to: str) -> LiveRoom:
    room = _keepers_room(user, room_id, lock=True)
    statemachine.transition(room, to, actor=user)
    _record_event(room, "status", {"status": room.status})
    return room


# ---- pins -----------------------------------------------------------------------


def pin_product(*, user, room_id: int, product_id: int) -> dict:
    """Show a product the shop sells under the stream; pinning it again is a no-op."""
    room = _keepers_room(user, room_id, lock=True)
    if room.status == LiveRoom.Status.ENDED:
        raise Conflict("This live room is over.", code="room_ended")
    if not Selection.objects.filter(shop_id=room.shop_id, product_id=product_id).exists():
        raise InvalidInput("This shop does not sell that product.", code="product_not_in_shop")
    pin, created = Pin.objects.get_or_create(
        room=room, product_id=product_id, defaults={"pinned_at": clock.now()}
    )
    card = next(
        c for c in queries.pinned_cards(room.pk, room.shop_id) if c["product_id"] == pin.product_id
    )
    if created:
        _record_event(room, "pin", {"pinned": True, **card})
    return card


def unpin_product(*, user, room_id: int, product_id: int) -> None:
    room = _keepers_room(user, room_id, lock=True)
    if not Pin.objects.filter(room=room, product_id=product_id).delete()[0]:
        raise NotFound("This product is not pinned.", code="pin_not_found")
    _record_event(room, "pin", {"pinned": False, "product_id": product_id})


# ---- chat -----------------------------------------------------------------------


def post_message(*, user, room_id: int, text: str) -> Message:
    """A signed-in viewer speaks in a live room: 1–300 characters, one message a
    second (429 slow_down), not when muted (403 muted). The second is taken with
    a conditional UPDATE, so two messages at once cannot both pass."""
    try:
        text = rules.clean_message(text)
    except ValueError:
        raise InvalidInput("A message has 1 to 300 characters.", code="message_length") from None
    room = _room(room_id)
    if room.status != LiveRoom.Status.LIVE:
        raise Conflict("This live room is not on air.", code="room_not_live")
    participant = _participant(room, user)
    if participant.is_muted:
        raise Forbidden("The shopkeeper has muted you in this room.", code="muted")
    now = clock.now()
    # rules.may_speak, as one conditional UPDATE
    spoke = (
        Participant.objects.filter(pk=participant.pk, is_muted=False)
        .filter(_may_speak_at(now))
        .update(last_message_at=now)
    )
    if not spoke:
        if Participant.objects.filter(pk=participant.pk, is_muted=True).exists():
            raise Forbidden("The shopkeeper has muted you in this room.", code="muted")
        raise TooManyRequests("One message a second, please.", code="slow_down")
    message = Message.objects.create(room=room, author=user, text=text, at=now)
    room = _room(room_id, lock=True)
    if room.status != LiveRoom.Status.LIVE:  # ended meanwhile: nothing is kept
        raise Conflict("This live room is not on air.", code="room_not_live")
    _record_event(
        room,
        "message",
        {
            "id": message.pk,
            "author": user.public_name,
            "author_id": user.pk,
            "text": text,
            "at": now.isoformat(),
        },
    )
    return message


def _may_speak_at(now: dt.datetime) -> Q:
    return Q(last_message_at__isnull=True) | Q(last_message_at__lte=now - rules.MESSAGE_INTERVAL)


def _participant(room: LiveRoom, user) -> Participant:
    participant = Participant.objects.filter(room=room, user=user).first()
    if participant is None:
        try:
            with transaction.atomic():
                participant = Participant.objects.create(room=room, user=user)
        except IntegrityError:  # created at the same moment by another request
            participant = Participant.objects.get(room=room, user=user)
    return participant


def mute_viewer(*, user, room_id: int, user_id: int) -> Participant:
    """The shopkeeper mutes a viewer in the room; they can still watch."""
    room = _keepers_room(user, room_id)
    viewer = User.objects.filter(pk=user_id).first()
    if viewer is None:
        raise NotFound("No such user.", code="user_not_found")
    if viewer.pk == room.shop.owner_id:
        raise InvalidInput("The shopkeeper cannot be muted.", code="cannot_mute_keeper")
    participant = _participant(room, viewer)
    Participant.objects.filter(pk=participant.pk).update(is_muted=True)
    participant.is_muted = True
    return participant


# ---- viewers --------------------------------------------------------------------


def record_visit(*, room_id: int, visitor_key: str, user=None) -> None:
    """Count a distinct viewer once (an account, else a device)."""
    key = f"u{user.pk}" if user is not None and user.is_authenticated else visitor_key[:64]
    if not key:
        return
    Visit.objects.bulk_create(
        [
            Visit(
                room_id=room_id,
                visitor_key=key,
                user=user if user is not None and user.is_authenticated else None,
                first_at=clock.now(),
            )
        ],
        ignore_conflicts=True,
    )


def record_peak(room_id: int, viewers: int) -> None:
    """Raise the room's peak concurrent viewers, never lower it."""
    LiveRoom.objects.filter(pk=room_id, peak_viewers__lt=viewers).update(peak_viewers=viewers)


def record_peak_from_hub(room_id: int, viewers: int) -> None:
    """`record_peak` from the hub's counting thread: its own short transaction,
    and the connection back to the pool."""
    try:
        with transaction.atomic():
            record_peak(room_id, viewers)
    finally:
        connection.close()


# ---- sharing and buying ---------------------------------------------------------


def share_room(*, sharer, room_id: int, shop: Shop | None = None, device_id: str = "") -> ShareLink:
    """A viewer's own link to the room (the same one every time): a room not
    over, of `shop` when one is named (404 `live_room_not_found` otherwise);
    sharing keeps the room's id on the link."""
    room = queries.room(room_id)
    if (
        room is None
        or room.status == LiveRoom.Status.ENDED
        or (shop is not None and room.shop_id != shop.pk)
    ):
        raise NotFound("This shop has no such live room.", code="live_room_not_found")
    return sharing.create_share_link(
        sharer=sharer, shop=room.shop, live_room_id=room.pk, device_id=device_id
    )


def place_room_order(
    *,
    buyer,
    room_id: int,
    lines: Iterable[orders.LineRequest],
    address: orders.Address,
    device_id: str = "",
) -> RoomOrder:
    """A viewer buys in a live room: a normal order of the shop, attributed as
    any order is, with the room link the viewer came in through counted as a
    `live` click made now. So the sharer who brought this viewer earns; a
    viewer brought by a viewer who shared on pays that viewer, never the first
    sharer (one level). The room's viewers see the order once it is paid,
    the buyer's name masked (announce_paid_orders)."""
    room = _room(room_id)
    if room.status != LiveRoom.Status.LIVE:
        raise Conflict("This live room is not on air.", code="room_not_live")
    now = clock.now()
    code = queries.entry_code(room_id=room.pk, viewer=buyer, since=now - sharing.window())
    order = orders.place_order(
        buyer=buyer,
        shop=room.shop,
        lines=lines,
        address=address,
        share_code=code,
        device_id=device_id,
        channel="live" if code else "link",
    )
    # The room's viewers see the order once it is paid (announce_paid_orders).
    return RoomOrder.objects.create(room=room, order=order, at=now)


# ---- in-room flash deals ----------------------------------------------------------


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
    """A flash sale of the shop; with `live_room_id`, a deal in that room of
    the same shop (422 `live_room_not_in_shop`), not over (409 `room_ended`).
    The room is locked first, the deal recorded and a `deal` event sent to
    every viewer of the room after commit, so the countdown starts for all."""
    room = None
    if live_room_id is not None:
        room = queries.lock_room(live_room_id)
        if room is None:
            raise NotFound("No such live room.", code="live_room_not_found")
        if room.shop_id != shop.pk:
            raise InvalidInput(
                "That live room is not one of this shop's.", code="live_room_not_in_shop"
            )
        if room.status == LiveRoom.Status.ENDED:
            raise Conflict("This live room is over.", code="room_ended")
    sale = campaigns.create_flash_sale(
        user=user,
        shop=shop,
        sku_id=sku_id,
        price=price,
        units=units,
        per_buyer_limit=per_buyer_limit,
        starts_at=starts_at,
        ends_at=ends_at,
        payment_minutes=payment_minutes,
        live_room_id=room.pk if room is not None else None,
    )
    if room is not None:
        _record_event(room, "deal", _deal_data(sale.pk))
    return sale


def end_flash_sale(*, user, sale_id: int) -> FlashSale:
    """The shopkeeper ends a flash sale early (campaigns decides it). A deal of
    a room that is not over also sends its viewers a `deal` event, after
    commit, showing it ended: their cards stop counting down."""
    sale = campaign_queries.flash_sale(sale_id)
    room = queries.lock_room(sale.live_room_id) if sale.live_room_id is not None else None
    sale = campaigns.end_flash_sale(user=user, sale_id=sale_id)
    if room is not None and room.status != LiveRoom.Status.ENDED:
        _record_event(room, "deal", _deal_data(sale.pk))
    return sale


def _deal_data(sale_id: int) -> dict:
    data = queries.deal(sale_id)
    assert data is not None
    return data


def buy_flash_sale(
    *,
    user,
    sale_id: int,
    quantity: int,
    address: orders.Address,
    share_code: str = "",
    device_id: str = "",
) -> Order:
    """Buy a flash sale. A deal of a room that is on air is bought in the room:
    the room link the buyer came in through (if any) is the attribution, with
    channel `live` (one level, as for any order in the room), the room's
    report counts the order, and its viewers see the units left at once and
    the order once it is paid (announce_paid_orders).
    Any other flash sale is bought as campaigns sells it."""
    sale = campaign_queries.flash_sale(sale_id)
    room = queries.room(sale.live_room_id) if sale.live_room_id is not None else None
    if room is None or room.status != LiveRoom.Status.LIVE:
        return campaigns.buy_flash_sale(
            user=user,
            sale_id=sale_id,
            quantity=quantity,
            address=address,
            share_code=share_code,
            device_id=device_id,
        )
    now = clock.now()
    code = queries.entry_code(room_id=room.pk, viewer=user, since=now - sharing.window())
    order = campaigns.buy_flash_sale(
        user=user,
        sale_id=sale_id,
        quantity=quantity,
        address=address,
        share_code=code or share_code,
        device_id=device_id,
        channel="live" if code else "link",
    )
    RoomOrder.objects.create(room=room, order=order, at=now)
    room = _room(room.pk, lock=True)
    _record_event(room, "deal", _deal_data(sale_id))  # the units left; the order once paid
    return order


# ---- paid orders, announced --------------------------------------------------------

ANNOUNCE_BATCH = 100
# An order paid later than this after it was placed in the room is not news to its viewers.
ANNOUNCE_WITHIN = dt.timedelta(days=1)


def announce_paid_orders(now: dt.datetime, *, room_ids: Iterable[int] | None = None) -> int:
    """Send each room's viewers an `order` event for its orders paid since
    (whatever paid them: the room's page, the API, a provider's webhook, an
    offline confirmation: all go through checkout, below this app). Checkout
    cannot call up here, so the step looks: a room order not yet announced
    whose order is paid is claimed with a conditional UPDATE of its
    `announced_at`, and only the claim's winner records the event, in the same
    transaction; two steps at once, or one run twice, announce it once. Run by
    `kinshop run-jobs` and, for the rooms it has viewers in, by each app
    process's live hub every second. A room that is over gets no event (the
    claim is made all the same). Returns how many were claimed."""
    due = RoomOrder.objects.filter(
        announced_at__isnull=True,
        at__gte=now - ANNOUNCE_WITHIN,
        order__status__in=queries.COUNTED,
    )
    if room_ids is not None:
        due = due.filter(room_id__in=list(room_ids))
    claimed = 0
    for room_order in due.select_related("order__buyer").order_by("at", "pk")[:ANNOUNCE_BATCH]:
        if not RoomOrder.objects.filter(pk=room_order.pk, announced_at__isnull=True).update(
            announced_at=now
        ):
            continue  # announced by another step meanwhile
        claimed += 1
        room = queries.lock_room(room_order.room_id)
        if room is None or room.status == LiveRoom.Status.ENDED:
            continue
        order = room_order.order
        lines = list(order.lines.all())
        _record_event(
            room,
            "order",
            {
                "buyer": rules.mask_name(order.buyer.public_name),
                "items": sum(line.quantity for line in lines),
                "titles": sorted({line.title for line in lines}),
            },
        )
    return claimed


def announce_paid_orders_from_hub(room_ids: list[int]) -> None:
    """`announce_paid_orders` for the rooms the hub's thread serves: its own
    short transaction, and the connection back to the pool."""
    try:
        with transaction.atomic():
            announce_paid_orders(clock.now(), room_ids=room_ids)
    finally:
        connection.close()


def report(*, user, room_id: int) -> dict:
    """The room's numbers, for its shopkeeper or an operator."""
    room = _room(room_id)
    if not (getattr(user, "is_staff", False) or room.shop.owner_id == getattr(user, "pk", None)):
        raise Forbidden(
            "Only the shopkeeper or an operator sees a room's report.", code="forbidden"
        )
    numbers = queries.report(room.pk)
    numbers["conversion"] = rules.conversion(buyers=numbers["buyers"], viewers=numbers["viewers"])
    return numbers


# ---- events -------------------------------------------------------------------


def _record_event(room: LiveRoom, kind: str, data: dict) -> Event:
    """Keep one event of the locked room under the next id and publish it after
    commit. The room's row stays locked until commit, so ids commit in order."""
    LiveRoom.objects.filter(pk=room.pk).update(last_event_id=F("last_event_id") + 1)
    number = LiveRoom.objects.filter(pk=room.pk).values_list("last_event_id", flat=True).get()
    event = Event.objects.create(room=room, number=number, kind=kind, data=data, at=clock.now())
    payload = {"id": number, "kind": kind, "data": data}
    transaction.on_commit(lambda: hub.publish(room.pk, payload))
    return event
