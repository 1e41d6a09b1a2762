"""Use cases of trust: the only writers of reviews, complaints, penalties and
fraud flags. Each runs in its caller's transaction and never commits."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Count
from PIL import Image, ImageOps, UnidentifiedImageError

from kinshop.accounts import services as accounts
from kinshop.catalog import services as catalog
from kinshop.catalog.models import Supplier
from kinshop.core import clock
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.core.statemachine import record_creation, transition
from kinshop.ledger import services as ledger
from kinshop.ledger.models import CommissionHold
from kinshop.orders import queries as order_queries
from kinshop.orders import services as orders
from kinshop.orders.models import Allotment, Order, OrderLine
from kinshop.payments import services as payments
from kinshop.sharing import rules as sharing_rules
from kinshop.shops import services as shops
from kinshop.shops.models import Shop
from kinshop.trust import queries, rules
from kinshop.trust.models import (
    Complaint,
    ComplaintMessage,
    ComplaintSupplier,
    FraudFlag,
    OrderScreening,
    Penalty,
    Review,
    ReviewImage,
    ReviewReply,
)

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_IMAGE_BYTES = 8 * 1024 * 1024
IMAGE_MAX_SIDE = 1600
_REVIEWABLE_WITH_IMAGES = ("JPEG", "PNG", "WEBP", "GIF")


def _text(text: str, *, code: str = "missing_text") -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Write something.", code=code)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"At most {MAX_TEXT} characters.", code="text_too_long")
    return text


def require_operator(user) -> None:
    if not (user is not None and user.is_authenticated and user.is_staff):
        raise Forbidden("Only an operator can do this.", code="not_operator")


# ---- reviews ------------------------------------------------------------------------


def clean_image(content: bytes) -> bytes:
    """A review photo as stored: decoded (so it is an image), turned upright by
    its EXIF orientation, no larger than IMAGE_MAX_SIDE, re-encoded as JPEG
    without any EXIF (no GPS position, no camera serial) or other metadata."""
    if len(content) > MAX_IMAGE_BYTES:
        raise InvalidInput("An image is at most 8 MB.", code="image_too_large")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            if probe.format not in _REVIEWABLE_WITH_IMAGES:
                raise InvalidInput("Send JPEG, PNG, WebP or GIF images.", code="invalid_image")
            probe.verify()
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > 40_000_000:
                raise InvalidInput("This image is too large.", code="image_too_large")
            upright = ImageOps.exif_transpose(image) or image
            picture = upright.convert("RGB")
            picture.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
            clean = Image.new("RGB", picture.size)
            clean.paste(picture)
            out = io.BytesIO()
            clean.save(out, format="JPEG", quality=85)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput("This is not an image we can read.", code="invalid_image") from None


def create_review(
    *, user, order_id: int, sku_id: int, rating: int, text: str, images: Sequence[bytes] = ()
) -> Review:
    """The buyer of a completed order reviews one of its lines, once. There is
    no other way to create a review: every review is a verified purchase."""
    order = order_queries.order_for(user, order_id, as_="buyer", lock=True)
    if order.status != Order.Status.COMPLETED:
        raise Conflict("Only a completed order can be reviewed.", code="not_completed")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("A rating is 1 to 5 stars.", code="invalid_rating")
    text = _text(text)
    if len(images) > settings.KINSHOP_REVIEW_MAX_IMAGES:
        raise InvalidInput(
            f"At most {settings.KINSHOP_REVIEW_MAX_IMAGES} images.", code="too_many_images"
        )
    line = OrderLine.objects.filter(order=order, sku_id=sku_id).first()
    if line is None:
        raise InvalidInput("This order has no such SKU.", code="unknown_sku")
    if Review.objects.filter(line=line).exists():
        raise Conflict("This line is already reviewed.", code="already_reviewed")
    cleaned = [clean_image(content) for content in images]
    review = Review.objects.create(
        order=order,
        line=line,
        product_id=line.product_id,
        supplier_id=line.supplier_id,
        shop_id=line.shop_id,
        author=user,
        rating=rating,
        text=text,
        created_at=clock.now(),
    )
    for position, content in enumerate(cleaned):
        picture = ReviewImage(review=review, position=position)
        picture.image.save(f"r{review.pk}-{position}.jpg", ContentFile(content), save=False)
        picture.save()
    return review


def _review(review_id: int) -> Review:
    review = Review.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise NotFound("No such review.", code="review_not_found")
    return review


def follow_up_review(*, user, review_id: int, text: str) -> Review:
    """The reviewer adds one follow-up (追评)."""
    review = _review(review_id)
    if review.author_id != user.id:
        raise Forbidden("Only the reviewer can follow up.", code="not_reviewer")
    if review.follow_up_at is not None:
        raise Conflict("This review already has its follow-up.", code="already_followed_up")
    review.follow_up = _text(text)
    review.follow_up_at = clock.now()
    review.save(update_fields=["follow_up", "follow_up_at"])
    return review


def reply_review(*, user, review_id: int, text: str) -> ReviewReply:
    """The product's supplier staff or the shop's keeper reply to a review."""
    review = _review(review_id)
    if review.supplier_id in queries.supplier_ids_of(user):
        role = ReviewReply.Role.SUPPLIER
    elif Shop.objects.filter(pk=review.shop_id, owner_id=user.id).exists():
        role = ReviewReply.Role.SHOP
    else:
        raise Forbidden(
            "Only the product's supplier or the shop's keeper can reply.", code="not_allowed"
        )
    return ReviewReply.objects.create(
        review=review, author=user, role=role, text=_text(text), created_at=clock.now()
    )


# ---- complaints -----------------------------------------------------------------------

_COMPLAINABLE = (
    Order.Status.PAID,
    Order.Status.SHIPPED,
    Order.Status.COMPLETED,
    Order.Status.REFUNDED,
)


def _message(complaint: Complaint, *, role: str, text: str, author=None) -> ComplaintMessage:
    return ComplaintMessage.objects.create(
        complaint=complaint, author=author, role=role, text=text, created_at=clock.now()
    )


def file_complaint(*, user, order_id: int, reason: str, text: str) -> Complaint:
    """The buyer complains about a paid order; the supplier or the shop answers
    by `respond_by` (KINSHOP_COMPLAINT_RESPONSE_HOURS), else the job escalates it."""
    order = order_queries.order_for(user, order_id, as_="buyer", lock=True)
    if reason not in Complaint.Reason.values:
        raise InvalidInput("Choose a reason from the list.", code="invalid_reason")
    text = _text(text)
    if order.status not in _COMPLAINABLE:
        raise Conflict("Only a paid order can be complained about.", code="not_paid")
    now = clock.now()
    complaint = Complaint.objects.create(
        order=order,
        buyer=user,
        shop_id=order.shop_id,
        reason=reason,
        respond_by=now + dt.timedelta(hours=settings.KINSHOP_COMPLAINT_RESPONSE_HOURS),
        created_at=now,
    )
    ComplaintSupplier.objects.bulk_create(
        ComplaintSupplier(complaint=complaint, supplier_id=supplier_id)
        for supplier_id in sorted({part.supplier_id for part in order.fulfilments.all()})
    )
    record_creation(complaint, actor=user, reason=reason, at=now)
    _message(complaint, role=ComplaintMessage.Role.BUYER, text=text, author=user)
    return complaint


def _complaint_for(user, complaint_id: int) -> Complaint:
    """The complaint locked, when the user may see it; else 404."""
    visible = queries.visible_complaints(user).filter(pk=complaint_id).values("pk")
    complaint = Complaint.objects.select_for_update().filter(pk__in=visible).first()
    if complaint is None:
        raise NotFound("No such complaint.", code="complaint_not_found")
    return complaint


def respond_complaint(*, user, complaint_id: int, text: str) -> Complaint:
    """The supplier's staff or the shop's keeper of the order answer; the first
    answer before the deadline makes the complaint `answered`. An answer after
    the deadline is kept but cannot stop the escalation: the complaint goes to
    the operator as the job would have sent it. Later messages join the
    exchange until the operator decides."""
    complaint = _complaint_for(user, complaint_id)
    if complaint.suppliers.filter(supplier_id__in=queries.supplier_ids_of(user)).exists():
        role = ComplaintMessage.Role.SUPPLIER
    elif Shop.objects.filter(pk=complaint.shop_id, owner_id=user.id).exists():
        role = ComplaintMessage.Role.SHOP
    else:
        raise Forbidden(
            "Only the supplier or the shopkeeper of the order can answer.", code="not_allowed"
        )
    text = _text(text)
    if complaint.status in (Complaint.Status.UPHELD, Complaint.Status.DISMISSED):
        raise Conflict("This complaint is decided.", code="complaint_closed")
    if complaint.status == Complaint.Status.OPEN:
        now = clock.now()
        if now > complaint.respond_by:
            _escalate(complaint, now=now)
        else:
            transition(complaint, Complaint.Status.ANSWERED, actor=user, reason="answered", at=now)
    _message(complaint, role=role, text=text, author=user)
    return complaint


def decide_complaint(
    *,
    user,
    complaint_id: int,
    upheld: bool,
    note: str,
    refund_amount: int | None = None,
    penalty_points: int | None = None,
    penalize: str = "supplier",
) -> Complaint:
    """The operator decides. Upheld: an optional refund goes through the normal
    refund path (requested by the operator, approved, sent by the provider) and
    penalty points go to the supplier (or the shop); points reaching
    KINSHOP_SUSPEND_POINTS within a year suspend it. Dismissed: nothing moves."""
    require_operator(user)
    complaint = _complaint_for(user, complaint_id)
    note = _text(note, code="missing_note")
    to = Complaint.Status.UPHELD if upheld else Complaint.Status.DISMISSED
    if not upheld and (refund_amount or penalty_points):
        raise InvalidInput(
            "A dismissed complaint has no refund and no penalty.", code="dismissed_with_remedy"
        )
    if penalize not in ("supplier", "shop"):
        raise InvalidInput("Penalize the supplier or the shop.", code="invalid_party")
    points = penalty_points or 0
    if points < 0 or points > 100:
        raise InvalidInput("Penalty points are 0 to 100.", code="invalid_points")
    transition(complaint, to, actor=user, reason=note)
    if refund_amount:
        refund = _refund(user, complaint, refund_amount, note)
        complaint.refund = refund
    complaint.penalty_points = points
    complaint.decision_note = note[:500]
    complaint.save(update_fields=["refund", "penalty_points", "decision_note"])
    _message(complaint, role=ComplaintMessage.Role.OPERATOR, text=note, author=user)
    if points:
        _penalize(user, complaint, points, penalize, note)
    return complaint


def _refund(user, complaint: Complaint, amount: int, note: str):
    refund = orders.request_refund(
        user=user,
        order_id=complaint.order_id,
        amount=amount,
        reason=f"complaint #{complaint.pk}: {note}",
    )
    return payments.approve_refund(user=user, refund_id=refund.pk, note=note)


def _penalize(user, complaint: Complaint, points: int, penalize: str, note: str) -> None:
    now = clock.now()
    threshold = settings.KINSHOP_SUSPEND_POINTS
    if penalize == "shop":
        Penalty.objects.create(
            shop_id=complaint.shop_id,
            complaint=complaint,
            points=points,
            note=note[:500],
            given_by=user,
            created_at=now,
        )
        total = queries.penalty_points(shop_id=complaint.shop_id, now=now)
        shop = Shop.objects.get(pk=complaint.shop_id)
        if rules.is_suspended_by_points(total, threshold) and not shop.is_suspended:
            shops.set_shop_suspended(shop=shop, is_suspended=True, actor=user)
        return
    for supplier_id in complaint.suppliers.values_list("supplier_id", flat=True):
        Penalty.objects.create(
            supplier_id=supplier_id,
            complaint=complaint,
            points=points,
            note=note[:500],
            given_by=user,
            created_at=now,
        )
        total = queries.penalty_points(supplier_id=supplier_id, now=now)
        supplier = Supplier.objects.get(pk=supplier_id)
        if rules.is_suspended_by_points(total, threshold) and supplier.is_verified:
            catalog.change_supplier_status(
                supplier=supplier,
                to=Supplier.Status.SUSPENDED,
                actor=user,
                reason=f"{total} penalty points within a year",
            )


def reinstate_shop(*, user, shop: Shop) -> Shop:
    """The operator opens a suspended shop to orders again."""
    require_operator(user)
    return shops.set_shop_suspended(shop=shop, is_suspended=False, actor=user)


def escalate_overdue_complaints(*, now: dt.datetime, limit: int = 200) -> int:
    """Complaints nobody answered by `respond_by` go to the operator. Returns how many."""
    overdue = list(
        Complaint.objects.filter(status=Complaint.Status.OPEN, respond_by__lte=now)
        .order_by("pk")
        .select_for_update(skip_locked=True)[:limit]
    )
    for complaint in overdue:
        _escalate(complaint, now=now)
    return len(overdue)


def _escalate(complaint: Complaint, *, now: dt.datetime) -> None:
    transition(complaint, Complaint.Status.ESCALATED, reason="not answered in time", at=now)
    ComplaintMessage.objects.create(
        complaint=complaint,
        role=ComplaintMessage.Role.SYSTEM,
        text="Not answered by the deadline: the operator will decide.",
        created_at=now,
    )


# ---- fraud flags ------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    evidence: dict
    order_ids: tuple[int, ...]
    user_ids: tuple[int, ...]
    lines: tuple[OrderLine, ...]


def raise_flag(finding: Finding, *, now: dt.datetime) -> FraudFlag | None:
    """Open a flag for a finding (or add its orders to the open flag of the same
    kind and subject) and hold the commission of its lines. A finding whose
    orders an operator has already cleared is not raised again."""
    flags = FraudFlag.objects.select_for_update().filter(kind=finding.kind, subject=finding.subject)
    flag = flags.filter(status=FraudFlag.Status.OPEN).first()
    if flag is None:
        cleared = set()
        for order_ids in flags.values_list("order_ids", flat=True):
            cleared.update(order_ids)
        if set(finding.order_ids) <= cleared:
            return None
        flag = FraudFlag.objects.create(
            kind=finding.kind,
            subject=finding.subject,
            order_ids=sorted(set(finding.order_ids)),
            user_ids=sorted(set(finding.user_ids)),
            evidence=finding.evidence,
            created_at=now,
        )
        record_creation(flag, reason=finding.kind, at=now)
    else:
        flag.order_ids = sorted(set(flag.order_ids) | set(finding.order_ids))
        flag.user_ids = sorted(set(flag.user_ids) | set(finding.user_ids))
        flag.evidence = finding.evidence
        flag.save(update_fields=["order_ids", "user_ids", "evidence"])
    held = [line for line in finding.lines if line.commission_beneficiary_id]
    if held:
        flag.lines.add(*held)
        for line in held:
            ledger.hold_commission(line=line, reason=f"{finding.kind} flag #{flag.pk}")
    return flag


def resolve_fraud_flag(*, user, flag_id: int, decision: str, note: str = "") -> FraudFlag:
    """The operator clears a flag in one step: `release` lets its lines'
    commission settle normally, `void` moves it to the shop's margin. A line
    another open flag still covers stays held."""
    require_operator(user)
    if decision not in ("release", "void"):
        raise InvalidInput("Decide release or void.", code="invalid_decision")
    flag = FraudFlag.objects.select_for_update().filter(pk=flag_id).first()
    if flag is None:
        raise NotFound("No such flag.", code="flag_not_found")
    to = FraudFlag.Status.RELEASED if decision == "release" else FraudFlag.Status.VOIDED
    flag.note = (note or "")[:500]
    transition(flag, to, actor=user, reason=note, also=("note",))
    lines = list(flag.lines.select_related("order").order_by("pk"))
    still_flagged = set(
        FraudFlag.lines.through.objects.filter(
            orderline_id__in=[line.pk for line in lines],
            fraudflag__status=FraudFlag.Status.OPEN,
        ).values_list("orderline_id", flat=True)
    )
    holds = set(
        CommissionHold.objects.filter(
            line_id__in=[line.pk for line in lines], status=CommissionHold.Status.HELD
        ).values_list("line_id", flat=True)
    )
    for line in lines:
        if line.pk in still_flagged or line.pk not in holds:
            continue
        if decision == "release":
            ledger.release_commission(line=line, actor=user, reason=note)
        else:
            ledger.void_commission(line=line, actor=user, reason=note)
    return flag


def _window(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=settings.KINSHOP_FRAUD_WINDOW_DAYS)


def _sharers(lines: list[OrderLine]) -> list[int]:
    return sorted(
        {line.commission_beneficiary_id for line in lines if line.commission_beneficiary_id}
    )


def _attributed_lines(order_ids: Iterable[int]) -> list[OrderLine]:
    return list(
        OrderLine.objects.filter(order_id__in=list(order_ids), commission_beneficiary__isnull=False)
        .select_related("order")
        .order_by("pk")
    )


def _attributed_lines_of(order: Order) -> list[OrderLine]:
    """`_attributed_lines` of one order, from memory when the capture has just
    read its lines under the order's lock."""
    known = order_queries.lines_in_memory(order)
    if known is None:
        return _attributed_lines([order.pk])
    lines = sorted(
        (line for line in known if line.commission_beneficiary_id is not None),
        key=lambda line: line.pk,
    )
    for line in lines:
        line.order = order
    return lines


def _linked_identity(order: Order, lines: list[OrderLine], now: dt.datetime) -> list[Finding]:
    findings = []
    buyer_address = rules.address_key(order.region, order.address_detail)
    for sharer_id in _sharers(lines):
        addresses: dict[str, list[int]] = {}
        for order_id, region, detail in Order.objects.filter(
            buyer_id=sharer_id, created_at__gte=now - dt.timedelta(days=365)
        ).values_list("pk", "region", "address_detail")[:500]:
            addresses.setdefault(rules.address_key(region, detail), []).append(order_id)
        evidence = rules.shared_address(
            buyer_address=buyer_address, sharer_id=sharer_id, sharer_addresses=addresses
        )
        if evidence:
            evidence["buyer_id"] = order.buyer_id
            evidence["order_id"] = order.pk
            findings.append(
                Finding(
                    kind=FraudFlag.Kind.LINKED_IDENTITY,
                    subject=f"order:{order.pk}:sharer:{sharer_id}",
                    evidence=evidence,
                    order_ids=(order.pk,),
                    user_ids=(order.buyer_id, sharer_id),
                    lines=tuple(
                        line for line in lines if line.commission_beneficiary_id == sharer_id
                    ),
                )
            )
    return findings


def _purchases_near(buyer_id: int, since: dt.datetime, hops: int) -> list[rules.Purchase]:
    """Attributed paid purchases in the window reachable from `buyer_id` within
    `hops` steps (buyer → the sharer they bought through → ...)."""
    found: dict[int, rules.Purchase] = {}
    frontier, seen = {buyer_id}, {buyer_id}
    for _ in range(hops):
        if not frontier:
            break
        rows = (
            OrderLine.objects.filter(
                order__buyer_id__in=frontier,
                commission_beneficiary__isnull=False,
                order__paid_at__gte=since,
            )
            .values_list("order_id", "order__buyer_id", "commission_beneficiary_id")
            .distinct()[:5000]
        )
        frontier = set()
        for order_id, buyer, sharer in rows:
            found[order_id] = rules.Purchase(order_id, buyer, sharer)
            if sharer not in seen:
                seen.add(sharer)
                frontier.add(sharer)
    return list(found.values())


def _order_ring(order: Order, lines: list[OrderLine], now: dt.datetime) -> list[Finding]:
    findings = []
    since = _window(now)
    for sharer_id in _sharers(lines):
        through = rules.Purchase(order.pk, order.buyer_id, sharer_id)
        ring = rules.find_ring(
            [*_purchases_near(sharer_id, since, hops=6), through],
            through=through,
            min_accounts=settings.KINSHOP_RING_MIN_ACCOUNTS,
        )
        if ring:
            members = "-".join(str(account) for account in sorted(ring["accounts"]))
            findings.append(
                Finding(
                    kind=FraudFlag.Kind.ORDER_RING,
                    subject=f"ring:{members}",
                    evidence=ring,
                    order_ids=tuple(ring["order_ids"]),
                    user_ids=tuple(ring["accounts"]),
                    lines=tuple(
                        line
                        for line in _attributed_lines(ring["order_ids"])
                        if line.commission_beneficiary_id in ring["accounts"]
                    ),
                )
            )
    return findings


def _full_refunds_of(buyer_id: int, since: dt.datetime) -> list[int]:
    return list(
        Order.objects.filter(
            buyer_id=buyer_id, status=Order.Status.REFUNDED, paid_at__gte=since
        ).values_list("pk", flat=True)
    )


def _buyer_refund_finding(buyer_id: int, now: dt.datetime, extra_orders=()) -> Finding | None:
    since = _window(now)
    evidence = rules.refund_abuse_buyer(
        buyer_id=buyer_id,
        full_refund_order_ids=_full_refunds_of(buyer_id, since),
        threshold=settings.KINSHOP_REFUND_ABUSE_BUYER_REFUNDS,
    )
    if evidence is None:
        return None
    orders = set(evidence["order_ids"]) | set(extra_orders)
    return Finding(
        kind=FraudFlag.Kind.REFUND_ABUSE,
        subject=f"buyer:{buyer_id}",
        evidence=evidence,
        order_ids=tuple(sorted(orders)),
        user_ids=(buyer_id,),
        lines=tuple(_attributed_lines(orders)),
    )


def _sharer_refund_finding(sharer_id: int, now: dt.datetime) -> Finding | None:
    since = _window(now)
    attributed = dict(
        Order.objects.filter(paid_at__gte=since, lines__commission_beneficiary_id=sharer_id)
        .values_list("pk", "status")
        .distinct()
    )
    refunded = [pk for pk, status in attributed.items() if status == Order.Status.REFUNDED]
    evidence = rules.refund_abuse_sharer(
        sharer_id=sharer_id,
        attributed_order_ids=list(attributed),
        refunded_order_ids=refunded,
        min_orders=settings.KINSHOP_REFUND_ABUSE_SHARER_MIN_ORDERS,
        rate_bp_over=settings.KINSHOP_REFUND_ABUSE_SHARER_RATE_BP,
    )
    if evidence is None:
        return None
    return Finding(
        kind=FraudFlag.Kind.REFUND_ABUSE,
        subject=f"sharer:{sharer_id}",
        evidence=evidence,
        order_ids=tuple(sorted(attributed)),
        user_ids=(sharer_id,),
        lines=tuple(
            line
            for line in _attributed_lines(attributed)
            if line.commission_beneficiary_id == sharer_id
        ),
    )


def screen_order(*, order: Order, now: dt.datetime | None = None) -> list[FraudFlag]:
    """Run every switched-on fraud rule on a paid order (once: a screened order
    is not screened again) and raise what they find. The caller holds the
    order's lock."""
    now = now or clock.now()
    full_refunds = _claim_screening(order, now)
    if full_refunds is None:
        return []
    lines = _attributed_lines_of(order)
    findings: list[Finding] = []
    if lines and settings.KINSHOP_FRAUD_LINKED_IDENTITY:
        findings += _linked_identity(order, lines, now)
    if lines and settings.KINSHOP_FRAUD_ORDER_RING:
        findings += _order_ring(order, lines, now)
    if (
        settings.KINSHOP_FRAUD_REFUND_ABUSE
        and full_refunds >= settings.KINSHOP_REFUND_ABUSE_BUYER_REFUNDS
        and (finding := _buyer_refund_finding(order.buyer_id, now, extra_orders=[order.pk]))
    ):
        findings.append(finding)
    if order.allotment_id is not None and (finding := _completed_group_finding(order.allotment_id)):
        findings.append(finding)
    flags = []
    for finding in findings:
        if flag := raise_flag(finding, now=now):
            flags.append(flag)
    return flags


def _claim_screening(order: Order, now: dt.datetime) -> int | None:
    """Record that the order is screened now: None when it already was, else how
    many of its buyer's orders were fully refunded in the window (what
    `_full_refunds_of` lists; the refund-abuse rule reads the list only when
    there are enough). One statement, no savepoint: `INSERT ... ON CONFLICT DO
    NOTHING RETURNING`, the count a subquery of what it returns."""
    table = OrderScreening._meta.db_table
    orders_table = Order._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (order_id, screened_at) VALUES (%s, %s) "
            "ON CONFLICT (order_id) DO NOTHING RETURNING "
            f"(SELECT COUNT(*) FROM {orders_table} "
            "WHERE buyer_id = %s AND status = %s AND paid_at >= %s)",
            [
                order.pk,
                adapt(now),
                order.buyer_id,
                Order.Status.REFUNDED,
                adapt(_window(now)),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def screen_paid_order(*, order_id: int, order: Order | None = None) -> list[FraudFlag]:
    """Screen one order just paid, from the entry point that captured it (in its
    transaction, `order` the row the capture locked and read, if at hand):
    payments and orders sit below trust and never call it. The job screens
    whatever an entry point did not."""
    if order is None or order.pk != order_id or order.paid_at is None:
        order = Order.objects.select_for_update().filter(pk=order_id, paid_at__isnull=False).first()
    if order is None or order.is_wholesale:
        return []
    return screen_order(order=order)


def screen_paid_orders(*, now: dt.datetime, limit: int = 200) -> int:
    """The job: screen orders paid within KINSHOP_TRUST_SCREEN_LOOKBACK_DAYS and
    not screened yet (the entry point that captured a payment screens it at
    once; this catches what it missed). Older orders are left alone, so the
    first run on a long history does not screen all of it. Returns how many."""
    since = now - dt.timedelta(days=settings.KINSHOP_TRUST_SCREEN_LOOKBACK_DAYS)
    orders = queries.unscreened_paid_orders(since=since, limit=limit)
    for order in orders:
        screen_order(order=order, now=now)
    return len(orders)


def screen_refund_patterns(*, now: dt.datetime) -> int:
    """The job: buyers with many full refunds and sharers whose orders are mostly
    refunded, over the window. Returns the flags opened or extended."""
    if not settings.KINSHOP_FRAUD_REFUND_ABUSE:
        return 0
    since = _window(now)
    raised = 0
    buyers = (
        Order.objects.filter(status=Order.Status.REFUNDED, paid_at__gte=since)
        .values("buyer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.KINSHOP_REFUND_ABUSE_BUYER_REFUNDS)
        .values_list("buyer_id", flat=True)
    )
    findings = [_buyer_refund_finding(buyer_id, now) for buyer_id in sorted(buyers)]
    sharers = (
        OrderLine.objects.filter(
            order__status=Order.Status.REFUNDED,
            order__paid_at__gte=since,
            commission_beneficiary__isnull=False,
        )
        .values_list("commission_beneficiary_id", flat=True)
        .distinct()
    )
    findings += [_sharer_refund_finding(sharer_id, now) for sharer_id in sorted(set(sharers))]
    for finding in findings:
        if finding is None:
            continue
        open_flag = FraudFlag.objects.filter(
            kind=finding.kind, subject=finding.subject, status=FraudFlag.Status.OPEN
        ).first()
        if open_flag is not None and set(finding.order_ids) <= set(open_flag.order_ids):
            continue
        if raise_flag(finding, now=now) is not None:
            raised += 1
    return raised


def _completed_group_finding(allotment_id: int) -> Finding | None:
    """group_self_fill on the group this order belongs to, once it has
    succeeded (all its seats paid). A group's seats are an orders allotment; the
    leader's order is its first (campaigns places it as it opens the group)."""
    if not settings.KINSHOP_FRAUD_GROUP_SELF_FILL:
        return None
    group = Allotment.objects.filter(
        pk=allotment_id, kind=Allotment.Kind.GROUP, completed_at__isnull=False
    ).first()
    if group is None:
        return None
    seats = list(
        Order.objects.filter(allotment_id=group.pk)
        .order_by("pk")
        .values_list("pk", "buyer_id", "paid_at")
    )
    paid = [(order_id, buyer_id) for order_id, buyer_id, paid_at in seats if paid_at is not None]
    return group_self_fill_finding(
        group_key=str(group.pk),
        leader_id=seats[0][1],
        member_ids=[buyer_id for _, buyer_id in paid],
        order_ids=[order_id for order_id, _ in paid],
    )


def group_self_fill_finding(
    *, group_key: str, leader_id: int, member_ids: Sequence[int], order_ids: Sequence[int]
) -> Finding | None:
    """The group_self_fill rule over a group's members, for whoever knows the
    group (the campaigns app): `member_ids` include the leader's own seat."""
    if not settings.KINSHOP_FRAUD_GROUP_SELF_FILL:
        return None
    known = accounts.identifiers_of([leader_id, *member_ids])
    people = {
        user_id: sharing_rules.Person(id=user_id, identifiers=known.get(user_id, frozenset()))
        for user_id in {leader_id, *member_ids}
    }
    evidence = rules.group_self_fill(
        leader=people[leader_id],
        members=[people[member_id] for member_id in member_ids],
        share_bp=settings.KINSHOP_GROUP_SELF_FILL_SHARE_BP,
    )
    if evidence is None:
        return None
    return Finding(
        kind=FraudFlag.Kind.GROUP_SELF_FILL,
        subject=f"group:{group_key}",
        evidence=evidence,
        order_ids=tuple(order_ids),
        user_ids=(leader_id, *member_ids),
        lines=tuple(_attributed_lines(order_ids)),
    )
