"""Use cases of sharing: share links, clicks, bindings and attribution.

Attribution is one level by construction: it names at most one sharer for a
purchase — the one whose share brought it — and never anyone above them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL

from kinshop.accounts import services as accounts
from kinshop.core import clock
from kinshop.core.errors import InvalidInput, NotFound
from kinshop.sharing import rules
from kinshop.sharing.models import Binding, Click, ShareLink
from kinshop.shops.models import Selection, Shop


@dataclass(frozen=True)
class Attribution:
    """Who earns the commission on a purchase, and the evidence that names them."""

    beneficiary_id: int
    click_id: int | None
    policy: str
    note: str


@dataclass(frozen=True)
class Decision:
    """The whole answer of the attribution rule, including a refusal: a click
    may exist whose sharer earns nothing (`note` says why, e.g. self_referral)."""

    attribution: Attribution | None
    click_id: int | None
    policy: str
    note: str
    refusal: str = ""  # rules.SELF_REFERRAL, LINKED_IDENTITY or SHOPKEEPER


def policy() -> str:
    return rules.policy_of(getattr(settings, "KINSHOP_ATTRIBUTION", rules.LAST_CLICK))


def window() -> dt.timedelta:
    return dt.timedelta(days=settings.KINSHOP_ATTRIBUTION_DAYS)


def click_window(at: dt.datetime) -> int:
    return rules.click_window(at, minutes=settings.KINSHOP_CLICK_WINDOW_MINUTES)


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


# Share links ---------------------------------------------------------------


def create_share_link(
    *, sharer, shop: Shop, product=None, live_room_id: int | None = None, device_id: str = ""
) -> ShareLink:
    """Any signed-in user may share any shop, a product that shop sells, or a
    live room of that shop not yet over. Sharing the same target twice returns
    the same link. The device shared from is kept as one of the sharer's
    identifiers (linked identities). A live room is shared through the live
    app (live.services.share_room), which checks the room is that shop's and
    not over: sharing, below it, keeps the room's id on the link."""
    product_id = getattr(product, "pk", product)
    if product_id is not None and live_room_id is not None:
        raise InvalidInput("Share a product or a live room, not both.", code="one_target")
    if (
        product_id is not None
        and not Selection.objects.filter(shop=shop, product_id=product_id).exists()
    ):
        raise InvalidInput("This shop does not sell that product.", code="product_not_in_shop")
    accounts.note_identifiers(user=sharer, devices=[device_id], at=clock.now())
    same_target = {"sharer": sharer, "shop": shop, "product_id": product_id}
    if live_room_id is not None:
        same_target = {"sharer": sharer, "live_room_id": live_room_id}
    else:
        same_target["live_room_id"] = None
    existing = ShareLink.objects.filter(**same_target).first()
    if existing is not None:
        return existing
    target = ShareLink.Target.PRODUCT if product_id is not None else ShareLink.Target.SHOP
    if live_room_id is not None:
        target = ShareLink.Target.LIVE
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ShareLink.objects.create(
                    code=rules.new_code(),
                    sharer=sharer,
                    shop=shop,
                    product_id=product_id,
                    live_room_id=live_room_id,
                    target=target,
                )
        except IntegrityError:
            # Either the same sharer shared the same target concurrently, or
            # (astronomically rarely) the code was taken: look, then retry.
            existing = ShareLink.objects.filter(**same_target).first()
            if existing is not None:
                return existing
    raise RuntimeError("could not allocate a share code")  # pragma: no cover


def link_by_code(code: str) -> ShareLink:
    link = (
        ShareLink.objects.select_related("shop", "sharer", "product").filter(code=code).first()
        if rules.is_well_formed_code(code)
        else None
    )
    if link is None:
        raise NotFound("No share link has this code.", code="share_link_not_found")
    return link


@dataclass(frozen=True)
class LandingTarget:
    """What a share link's landing needs of it: never changes once the link exists."""

    link_id: int
    code: str
    shop_id: int
    shop_handle: str
    sharer_id: int
    product_id: int | None
    live_room_id: int | None = None

    @property
    def path(self) -> str:
        if self.live_room_id is not None:
            return f"/live/{self.live_room_id}/"
        if self.product_id is not None:
            return f"/shop/{self.shop_handle}/p/{self.product_id}/"
        return f"/shop/{self.shop_handle}/"


def landing_target(code: str) -> LandingTarget:
    """A link's landing target, kept in the cache (a link and its shop's handle
    never change), so that a viral link's landing reads nothing."""
    key = f"share-link:v2:{code}"
    target = cache.get(key) if rules.is_well_formed_code(code) else None
    if target is None:
        link = link_by_code(code)
        target = LandingTarget(
            link_id=link.pk,
            code=link.code,
            shop_id=link.shop_id,
            shop_handle=link.shop.handle,
            sharer_id=link.sharer_id,
            product_id=link.product_id,
            live_room_id=link.live_room_id,
        )
        cache.set(key, target, timeout=24 * 3600)
    return target


def land(*, code: str, visitor_key: str, channel: str = "link") -> LandingTarget:
    """Count an anonymous visitor's opening of a share link: one INSERT and no
    read when the link is in the cache; a repeat by the same visitor within the
    click window adds nothing (the unique index drops it)."""
    if not rules.is_valid_channel(channel):
        raise InvalidInput(
            f"A channel is one of {', '.join(rules.CHANNELS)}.", code="invalid_channel"
        )
    target = landing_target(code)
    channel = rules.channel_of_opening(channel, is_live_room=target.live_room_id is not None)
    at = clock.now()
    values: list[Any] = [
        target.link_id,
        target.shop_id,
        target.sharer_id,
        visitor_key[:64],
        channel,
        connection.ops.adapt_datetimefield_value(at),
        click_window(at),
    ]
    # Outside a transaction this is the request's only round trip: the ORM's
    # bulk_create would wrap it in BEGIN and COMMIT, and compiling it cost more
    # than running it.
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_ANONYMOUS_CLICK, values)
    return target


_INSERT_ANONYMOUS_CLICK = (
    f"INSERT INTO {Click._meta.db_table}"
    " (link_id, shop_id, sharer_id, visitor_key, channel, at, window_index)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


# Clicks and bindings --------------------------------------------------------


def record_click(
    *,
    code: str,
    viewer=None,
    visitor_key: str = "",
    channel: str = "link",
    at: dt.datetime | None = None,
) -> Click:
    """Record one opening of a share link, server-side. Under the `binding`
    policy a signed-in viewer not yet bound to a sharer for that shop becomes
    bound to this one, unless this sharer could not earn on their purchases."""
    if not rules.is_valid_channel(channel):
        raise InvalidInput(
            f"A channel is one of {', '.join(rules.CHANNELS)}.", code="invalid_channel"
        )
    link = link_by_code(code)
    return _record(
        link=link,
        viewer=viewer if _signed_in(viewer) else None,
        visitor_key=visitor_key[:64],
        channel=channel,
        at=at or clock.now(),
    )


def _record(*, link: ShareLink, viewer, visitor_key: str, channel: str, at) -> Click:
    channel = rules.channel_of_opening(channel, is_live_room=link.live_room_id is not None)
    click = Click(
        link=link,
        shop_id=link.shop_id,
        sharer_id=link.sharer_id,
        viewer=viewer,
        visitor_key=visitor_key,
        channel=channel,
        at=at,
        window_index=click_window(at),
    )
    if not visitor_key:
        click.save(force_insert=True)
    else:
        # One click per visitor, link and window: a repeat within the window
        # inserts nothing and answers with the click that counted.
        Click.objects.bulk_create([click], ignore_conflicts=True)
        click = Click.objects.get(
            link=link, visitor_key=visitor_key, window_index=click.window_index
        )
        if click.viewer_id is None and viewer is not None:
            Click.objects.filter(pk=click.pk, viewer__isnull=True).update(viewer=viewer)
            click.viewer = viewer
    click.link = link
    binds = viewer is not None and policy() == rules.BINDING
    if binds and not _is_bound(buyer=viewer, shop_id=link.shop_id, at=at):
        _bind_if_eligible(buyer=viewer, click=click, shopkeeper_id=link.shop.owner_id, at=at)
    return click


def claim_anonymous_clicks(*, visitor_key: str, user) -> int:
    """Attach the clicks a visitor made before signing up or in (same session
    key) to their account, so the sharer who brought them is not forgotten.
    Under `binding`, the earliest claimed click still in force binds them to a
    shop they are not yet bound to. Returns how many clicks were claimed."""
    if not visitor_key or not _signed_in(user):
        return 0
    claimed = list(
        Click.objects.filter(visitor_key=visitor_key, viewer__isnull=True)
        .select_related("sharer", "shop")
        .order_by("at", "id")
    )
    if not claimed:
        return 0
    Click.objects.filter(pk__in=[click.pk for click in claimed]).update(viewer=user)
    if policy() == rules.BINDING:
        now = clock.now()
        bound_shops = set(
            Binding.objects.filter(
                buyer=user, shop_id__in={c.shop_id for c in claimed}, expires_at__gt=now
            ).values_list("shop_id", flat=True)
        )
        for click in claimed:
            if click.shop_id in bound_shops or click.at + window() <= now:
                continue
            if _bind_if_eligible(
                buyer=user, click=click, shopkeeper_id=click.shop.owner_id, at=now
            ):
                bound_shops.add(click.shop_id)
    return len(claimed)


def _is_bound(*, buyer, shop_id: int, at) -> bool:
    return Binding.objects.filter(buyer=buyer, shop_id=shop_id, expires_at__gt=at).exists()


def _bind_if_eligible(*, buyer, click: Click, shopkeeper_id: int, at) -> bool:
    """Bind `buyer` to the click's sharer for its shop, unless that sharer could
    not earn on them. True if a binding was made."""
    if _ineligibility(buyer=buyer, sharer=click.sharer, shopkeeper_id=shopkeeper_id):
        return False
    return _bind(buyer=buyer, click=click, at=at)


def _bind(*, buyer, click: Click, at) -> bool:
    """Bind from the click's time for the attribution window, replacing an
    expired binding; a live one is never replaced — the first sharer stays."""
    values = {
        "sharer_id": click.sharer_id,
        "click": click,
        "bound_at": click.at,
        "expires_at": click.at + window(),
    }
    if Binding.objects.filter(buyer=buyer, shop_id=click.shop_id, expires_at__lte=at).update(
        **values
    ):
        return True
    try:
        with transaction.atomic():
            Binding.objects.create(buyer=buyer, shop_id=click.shop_id, **values)
    except IntegrityError:
        return False  # bound concurrently, or still bound: the first binding stays.
    return True


def _ineligibility(*, buyer, sharer, shopkeeper_id: int) -> str:
    return _refusal(buyer=buyer, sharer=sharer, shopkeeper_id=shopkeeper_id).code


def _refusal(*, buyer, sharer, shopkeeper_id: int) -> rules.Refusal:
    """`rules.refusal` with every identifier the buyer, the sharer and the
    shopkeeper have been seen with (phones, devices, payer accounts): no query
    when the sharer is the buyer or the shopkeeper, else one, whatever their
    history."""
    quick = rules.refusal(
        sharer=rules.Person(id=sharer.pk),
        buyer=rules.Person(id=buyer.pk),
        shopkeeper=rules.Person(id=shopkeeper_id),
    )
    if quick:
        return quick
    known = accounts.identifiers_of([buyer.pk, sharer.pk, shopkeeper_id])
    return rules.refusal(
        sharer=rules.Person.of(
            id=sharer.pk, phone=sharer.phone, email=sharer.email, known=known[sharer.pk]
        ),
        buyer=rules.Person.of(
            id=buyer.pk, phone=buyer.phone, email=buyer.email, known=known[buyer.pk]
        ),
        shopkeeper=rules.Person.of(id=shopkeeper_id, known=known[shopkeeper_id]),
    )


# Attribution ---------------------------------------------------------------


def attribute(*, buyer, shop: Shop, share_code: str = "", at: dt.datetime) -> Attribution | None:
    """Who earns the commission on `buyer`'s purchase from `shop` at `at`, or
    None: nobody brought them, or whoever did may not earn on them (see
    `resolve_attribution` for the reason). Called by checkout, inside its
    transaction; a constant number of queries whatever the history."""
    return resolve_attribution(buyer=buyer, shop=shop, share_code=share_code, at=at).attribution


def last_click_sql(*, buyer_id: int, at: dt.datetime, shop: str | int) -> tuple[str, list]:
    """The id of the buyer's latest click on a shop's links within the window
    before `at` (the click `resolve_attribution` looks for), as a scalar
    subquery and its parameters, so that a caller reading other rows first (the
    order's SKUs) asks for it in the same statement. `shop`: the column holding
    the shop's id in the caller's statement, or the id itself."""
    adapt = connection.ops.adapt_datetimefield_value
    shop_sql, shop_params = (shop, []) if isinstance(shop, str) else ("%s", [shop])
    return (
        f"(SELECT click.id FROM {Click._meta.db_table} click"
        f" WHERE click.shop_id = {shop_sql} AND click.viewer_id = %s"
        " AND click.at > %s AND click.at <= %s ORDER BY click.at DESC, click.id DESC LIMIT 1)",
        [*shop_params, buyer_id, adapt(at - window()), adapt(at)],
    )


def resolve_attribution(
    *,
    buyer,
    shop: Shop,
    share_code: str = "",
    at: dt.datetime,
    channel: str = "link",
    known_last_click_id: int | Literal["unknown"] | None = "unknown",
) -> Decision:
    """The attribution rule. `last_click`: the buyer's latest click on this
    shop's links within the window wins; a share code given at checkout counts
    as a click made now (through `channel`: "live" for a purchase in a live
    room). `binding`: the buyer's live binding for the shop wins;
    without one, the click rule finds the sharer and binds the buyer to them.
    `known_last_click_id`: that latest click as the caller found it with
    `last_click_sql` (None: there is none), so it is not looked for again."""
    current = policy()
    click = None
    if share_code:
        link = (
            ShareLink.objects.select_related("sharer").filter(code=share_code, shop=shop).first()
            if rules.is_well_formed_code(share_code)
            else None
        )
        if link is not None:
            click = Click.objects.create(
                link=link,
                shop=shop,
                sharer=link.sharer,
                viewer=buyer,
                channel=channel if rules.is_valid_channel(channel) else Click.Channel.LINK,
                at=at,
            )
    if current == rules.BINDING:
        binding = (
            Binding.objects.select_related("sharer", "click")
            .filter(buyer=buyer, shop=shop, expires_at__gt=at)
            .first()
        )
        if binding is not None:
            # The binding was checked when it was made; checking again catches
            # what changed since (the sharer opened this shop, shares a phone).
            return _decide(
                buyer=buyer,
                shop=shop,
                sharer=binding.sharer,
                click_id=binding.click_id,
                policy=current,
                note=f"bound until {binding.expires_at:%Y-%m-%d}",
            )
    if click is None and known_last_click_id is not None:
        # The latest click in the window (one query either way): as the caller
        # found it, or looked for now by the same rule.
        click_id = (
            RawSQL(*last_click_sql(buyer_id=buyer.pk, at=at, shop=shop.pk))
            if known_last_click_id == "unknown"
            else known_last_click_id
        )
        click = Click.objects.select_related("sharer").filter(pk=click_id).first()
    if click is None:
        return Decision(attribution=None, click_id=None, policy=current, note="no_click")
    decision = _decide(
        buyer=buyer,
        shop=shop,
        sharer=click.sharer,
        click_id=click.pk,
        policy=current,
        note=f"{click.channel} click at {click.at:%Y-%m-%d %H:%M}",
    )
    if current == rules.BINDING and decision.attribution is not None:
        _bind(buyer=buyer, click=click, at=at)
    return decision


def _decide(*, buyer, shop: Shop, sharer, click_id, policy: str, note: str) -> Decision:
    refusal = _refusal(buyer=buyer, sharer=sharer, shopkeeper_id=shop.owner_id)
    if refusal:
        return Decision(
            attribution=None,
            click_id=click_id,
            policy=policy,
            note=f"{refusal.code}: {refusal.evidence}"[:120],
            refusal=refusal.code,
        )
    return Decision(
        attribution=Attribution(
            beneficiary_id=sharer.pk, click_id=click_id, policy=policy, note=note[:120]
        ),
        click_id=click_id,
        policy=policy,
        note=note[:120],
    )
