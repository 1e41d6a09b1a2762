"""Live room pages: the room a viewer watches (/live/<id>/: the stream, pinned
products, chat, the viewer's own share link, buying in the room), kept up to
date by kinshop/static/kinshop/live.js over the room's event stream; and the
shop console's rooms (/console/shop/live/): schedule, start, end, pin, mute,
and the report."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kinshop.accounts.models import User
from kinshop.core.device import device_of
from kinshop.core.errors import DomainError
from kinshop.live import queries, rules, services
from kinshop.live.models import Event, LiveRoom
from kinshop.orders import services as order_services
from kinshop.sharing.models import ShareLink
from kinshop.shops.models import Selection, SelectionPrice, Shop
from kinshop.web.errors import error_text
from kinshop.web.forms import refusal, submit
from kinshop.web.live.forms import (
    BuyForm,
    ChatForm,
    DealBuyForm,
    MuteForm,
    PinForm,
    ScheduleForm,
)


def _room_or_404(room_id: int) -> LiveRoom:
    room = queries.room(room_id)
    if room is None:
        raise Http404
    return room


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _chat_history(room: LiveRoom, up_to: int, limit: int = 50) -> list[dict]:
    """The messages the page shows: those among the events up to the id the
    page's stream resumes after, so none is shown twice or missed."""
    events = Event.objects.filter(room=room, kind="message", number__lte=up_to).order_by("-number")
    return [event.data for event in reversed(list(events[:limit].only("data")))]


def _buy_choices(room: LiveRoom, cards: list[dict]) -> list[tuple[int, str, int]]:
    """(sku id, label, price) of the pinned products' SKUs the shop prices."""
    prices = SelectionPrice.objects.filter(
        shop_id=room.shop_id, sku__product_id__in=[card["product_id"] for card in cards]
    ).select_related("sku", "sku__product")
    return [
        (price.sku_id, f"{price.sku.product.title} · {price.sku.name}", price.retail_price)
        for price in prices
    ]


def room(request, room_id: int):
    live_room = _room_or_404(room_id)
    last_event_id = live_room.last_event_id
    cards = queries.pinned_cards(live_room.pk, live_room.shop_id)
    user = request.user
    link = None
    if user.is_authenticated:
        link = ShareLink.objects.filter(sharer=user, live_room_id=live_room.pk).first()
    stream_url = live_room.stream_url
    if not rules.stream_host_allowed(stream_url, settings.KINSHOP_LIVE_STREAM_HOSTS):
        stream_url = ""  # the operator no longer allows its host: the page would not frame it
    context = {
        "room": live_room,
        "shop": live_room.shop,
        "cards": cards,
        "chat": _chat_history(live_room, last_event_id),
        "last_event_id": last_event_id,
        "stream_url": stream_url,
        "link": link,
        "share_url": request.build_absolute_uri(f"/s/{link.code}") if link else "",
        "is_keeper": user.is_authenticated and live_room.shop.owner_id == user.pk,
        "chat_form": ChatForm(),
        "buy_form": BuyForm(),
        "buy_choices": _buy_choices(live_room, cards),
        "deals": queries.room_deals(live_room.pk, running_only=True),
        "deal_form": DealBuyForm(auto_id="deal_%s"),
    }
    return render(request, "web/live/room.html", context)


@require_POST
def say(request, room_id: int):
    """A chat message: JSON for the page's script, a redirect without it."""
    live_room = _room_or_404(room_id)
    if not request.user.is_authenticated:
        if _wants_json(request):
            return JsonResponse(
                {"code": "not_authenticated", "message": str(error_text_of("not_authenticated"))},
                status=401,
            )
        return redirect_to_login(f"/live/{live_room.pk}/")
    form = ChatForm(request.POST)
    if not form.is_valid():
        answer = {"code": "message_length", "message": refusal(form)}
        if _wants_json(request):
            return JsonResponse(answer, status=422)
        messages.error(request, answer["message"])
        return redirect("live:room", room_id=live_room.pk)
    try:
        with transaction.atomic():
            message = services.post_message(
                user=request.user, room_id=live_room.pk, text=form.cleaned_data["text"]
            )
    except DomainError as error:
        if _wants_json(request):
            return JsonResponse(
                {"code": error.code, "message": str(error_text(error))}, status=error.status
            )
        messages.error(request, error_text(error))
        return redirect("live:room", room_id=live_room.pk)
    if _wants_json(request):
        return JsonResponse({"id": message.pk}, status=201)
    return redirect("live:room", room_id=live_room.pk)


def error_text_of(code: str):
    return error_text(DomainError("", code=code))


@login_required
@require_POST
def share(request, room_id: int):
    """The viewer's own link to the room and its poster, shown on the room page."""
    live_room = _room_or_404(room_id)
    try:
        with transaction.atomic():
            services.share_room(
                sharer=request.user, room_id=live_room.pk, device_id=device_of(request)
            )
    except DomainError as error:
        messages.error(request, error_text(error))
    return redirect(f"/live/{live_room.pk}/#share")


@login_required
@require_POST
def buy(request, room_id: int):
    """Buy a pinned product in the room; then pay as for any order."""
    live_room = _room_or_404(room_id)
    form = BuyForm(request.POST)

    def place(data):
        return services.place_room_order(
            buyer=request.user,
            room_id=live_room.pk,
            lines=[order_services.LineRequest(data["sku"], data["quantity"])],
            address=order_services.Address(
                name=data["name"], phone=data["phone"], region=data["region"], detail=data["detail"]
            ),
            device_id=device_of(request),
        )

    room_order = submit(form, place)
    if room_order is None:
        messages.error(request, refusal(form))
        return redirect(f"/live/{live_room.pk}/#buy")
    return redirect("payments:choose", order_id=room_order.order_id)


@login_required
@require_POST
def buy_deal(request, room_id: int):
    """Buy one of the room's flash deals (buy_flash_sale, attributed to the
    room link the viewer came in through); then pay as for any order."""
    live_room = _room_or_404(room_id)
    form = DealBuyForm(request.POST)
    if form.is_valid() and form.cleaned_data["sale"] not in {
        deal["id"] for deal in queries.room_deals(live_room.pk)
    }:
        raise Http404  # not a deal of this room

    def place(data):
        return services.buy_flash_sale(
            user=request.user,
            sale_id=data["sale"],
            quantity=data["quantity"],
            address=order_services.Address(
                name=data["name"], phone=data["phone"], region=data["region"], detail=data["detail"]
            ),
            device_id=device_of(request),
        )

    order = submit(form, place)
    if order is None:
        messages.error(request, refusal(form))
        return redirect(f"/live/{live_room.pk}/#deal")
    return redirect("payments:choose", order_id=order.pk)


# ---- the shop console's rooms ---------------------------------------------------


def _own_shop(user) -> Shop | None:
    return Shop.objects.filter(owner=user).first()


def _own_room(request, room_id: int) -> LiveRoom:
    live_room = _room_or_404(room_id)
    if live_room.shop.owner_id != request.user.pk:
        raise Http404  # another shop's room is not the keeper's to see here
    return live_room


@login_required
def console_rooms(request):
    shop = _own_shop(request.user)
    if shop is None:
        return redirect("shop_console:overview")
    form = ScheduleForm(request.POST or None)
    if request.method == "POST":
        created = submit(
            form,
            lambda data: services.create_room(
                user=request.user,
                shop=shop,
                title=data["title"],
                scheduled_at=data["scheduled_at"],
                stream_url=data["stream_url"] or "",
            ),
        )
        if created is not None:
            return redirect("live:console_room", room_id=created.pk)
    elif not form.is_bound:
        form = ScheduleForm(
            initial={"scheduled_at": timezone.localtime().replace(second=0, microsecond=0)}
        )
    context = {
        "shop": shop,
        "rooms": queries.rooms_of_shop(shop.pk),
        "form": form,
        "tab": "live",
        "stream_hosts": settings.KINSHOP_LIVE_STREAM_HOSTS,
    }
    return render(request, "web/live/console_rooms.html", context)


@login_required
def console_room(request, room_id: int):
    live_room = _own_room(request, room_id)
    pinned = {card["product_id"] for card in queries.pinned_cards(live_room.pk, live_room.shop_id)}
    selections = Selection.objects.filter(shop_id=live_room.shop_id).select_related("product")
    chat = list(queries.recent_messages(live_room.pk, limit=30))
    report = services.report(user=request.user, room_id=live_room.pk)
    sharer_names = dict(
        User.objects.filter(pk__in=[row["user_id"] for row in report["top_sharers"]]).values_list(
            "pk", "username"
        )
    )
    for row in report["top_sharers"]:
        row["name"] = sharer_names.get(row["user_id"], "")
    context = {
        "room": live_room,
        "shop": live_room.shop,
        "tab": "live",
        "cards": queries.pinned_cards(live_room.pk, live_room.shop_id),
        "can_pin": [s.product for s in selections if s.product_id not in pinned],
        "chat": chat,
        "muted": set(
            live_room.participants.filter(is_muted=True).values_list("user_id", flat=True)
        ),
        "report": report,
        "currency": settings.KINSHOP_CURRENCY,
    }
    return render(request, "web/live/console_room.html", context)


def _console_action(request, room_id: int, action) -> object:
    live_room = _own_room(request, room_id)
    try:
        with transaction.atomic():
            action(live_room)
    except DomainError as error:
        messages.error(request, error_text(error))
    return redirect("live:console_room", room_id=live_room.pk)


@login_required
@require_POST
def console_start(request, room_id: int):
    return _console_action(
        request, room_id, lambda r: services.start_room(user=request.user, room_id=r.pk)
    )


@login_required
@require_POST
def console_end(request, room_id: int):
    return _console_action(
        request, room_id, lambda r: services.end_room(user=request.user, room_id=r.pk)
    )


@login_required
@require_POST
def console_pin(request, room_id: int):
    form = PinForm(request.POST)
    if not form.is_valid():
        messages.error(request, refusal(form))
        return redirect("live:console_room", room_id=_own_room(request, room_id).pk)
    return _console_action(
        request,
        room_id,
        lambda r: services.pin_product(
            user=request.user, room_id=r.pk, product_id=form.cleaned_data["product"]
        ),
    )


@login_required
@require_POST
def console_unpin(request, room_id: int, product_id: int):
    return _console_action(
        request,
        room_id,
        lambda r: services.unpin_product(user=request.user, room_id=r.pk, product_id=product_id),
    )


@login_required
@require_POST
def console_mute(request, room_id: int):
    form = MuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, refusal(form))
        return redirect("live:console_room", room_id=_own_room(request, room_id).pk)
    return _console_action(
        request,
        room_id,
        lambda r: services.mute_viewer(
            user=request.user, room_id=r.pk, user_id=form.cleaned_data["user"]
        ),
    )
