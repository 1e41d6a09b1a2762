"""Use cases of the supply market. The only writers of suppliers, products and stock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Case, F, Q, When

from kinshop.catalog import rules
from kinshop.catalog.models import (
    SKU,
    Product,
    ProductImage,
    Supplier,
    SupplierDocument,
    SupplierMembership,
)
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.core.statemachine import record_creation, transition

MAX_STOCK = 2**31 - 1  # SKU.stock is a 32-bit integer column


@dataclass(frozen=True)
class NewSku:
    code: str
    name: str
    supply_price: int
    retail_min: int
    retail_max: int
    suggested_retail_price: int
    stock: int = 0


def apply_supplier(*, user, name: str, license_no: str, description: str = "") -> Supplier:
    """A business applies to supply; the applicant becomes its first staff member.
    It lists nothing in the market until an operator verifies it."""
    name, license_no = name.strip(), license_no.strip()
    if not name or not license_no:
        raise InvalidInput("A supplier needs a name and a licence number.", code="missing_field")
    if SupplierMembership.objects.filter(user=user).exists():
        raise Conflict("You already work for a supplier.", code="already_supplier_staff")
    supplier = Supplier.objects.create(name=name, license_no=license_no, description=description)
    SupplierMembership.objects.create(supplier=supplier, user=user, is_owner=True)
    record_creation(supplier, actor=user, reason="applied")
    return supplier


def change_supplier_status(*, supplier: Supplier, to: str, actor, reason: str = "") -> Supplier:
    """Operators verify, reject, suspend and reinstate suppliers; each change is kept."""
    if not (actor and actor.is_staff):
        raise Forbidden("Only an operator can change a supplier's status.")
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    transition(supplier, to, actor=actor, reason=reason)
    # Its products leave or come back to every storefront.
    _bump_versions(Product.objects.filter(supplier=supplier))
    return supplier


MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
_DOCUMENT_SIGNATURES = {b"%PDF": ".pdf", b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png"}


def upload_supplier_document(
    *, user, supplier: Supplier, kind: str, filename: str, content: bytes
) -> SupplierDocument:
    """A supplier's staff upload a licence or a brand authorisation (PDF, JPEG or
    PNG, at most 10 MB) for the operator to check. Stored privately: it is never
    served to the public."""
    if not SupplierMembership.objects.filter(user=user, supplier=supplier).exists():
        raise Forbidden("Only the supplier's staff can upload its documents.", code="not_allowed")
    if kind not in SupplierDocument.Kind.values:
        raise InvalidInput("A document is a licence or a brand authorisation.", code="invalid_kind")
    if not content or len(content) > MAX_DOCUMENT_BYTES:
        raise InvalidInput("A document is a file of at most 10 MB.", code="invalid_document")
    suffix = next(
        (ext for signature, ext in _DOCUMENT_SIGNATURES.items() if content.startswith(signature)),
        None,
    )
    if suffix is None:
        raise InvalidInput("Upload a PDF, JPEG or PNG file.", code="invalid_document")
    document = SupplierDocument(
        supplier=supplier, kind=kind, original_name=(filename or "document")[:200], uploaded_by=user
    )
    document.file.save(f"{supplier.pk}-{kind}{suffix}", ContentFile(content), save=False)
    document.save()
    return document


def verify_supplier(*, supplier: Supplier, actor, reason: str = "") -> Supplier:
    return change_supplier_status(
        supplier=supplier, to=Supplier.Status.VERIFIED, actor=actor, reason=reason
    )


def _require_verified_staff(user, supplier: Supplier | None) -> Supplier:
    if supplier is None:
        raise Forbidden("Only a supplier's staff can do this.", code="not_supplier_staff")
    if not supplier.is_verified:
        raise Forbidden("The supplier is not verified yet.", code="supplier_not_verified")
    return supplier


def create_product(
    *,
    user,
    title: str,
    description: str = "",
    commission_rate_bp: int,
    skus: Iterable[NewSku],
    images: Iterable[tuple[str, bytes]] = (),
) -> Product:
    """A verified supplier lists a product. Its commission rate is capped by the
    operator maximum, and every SKU's band must leave the shopkeeper a margin."""
    from kinshop.catalog.queries import supplier_of

    supplier = _require_verified_staff(user, supplier_of(user))
    title = title.strip()
    if not title:
        raise InvalidInput("A product needs a title.", code="missing_title")
    if not 0 <= commission_rate_bp <= settings.KINSHOP_MAX_COMMISSION_BP:
        raise InvalidInput(
            f"The commission rate must be between 0 and "
            f"{settings.KINSHOP_MAX_COMMISSION_BP} basis points.",
            code="commission_rate_out_of_range",
        )
    skus = list(skus)
    if not skus:
        raise InvalidInput("A product needs at least one SKU.", code="missing_skus")
    codes = [sku.code.strip() for sku in skus]
    if len(set(codes)) != len(codes) or not all(codes):
        raise InvalidInput("SKU codes must be given and distinct.", code="duplicate_sku_code")
    if SKU.objects.filter(supplier=supplier, code__in=codes).exists():
        raise Conflict("One of these SKU codes is already used.", code="sku_code_taken")
    for sku in skus:
        if sku.stock < 0:
            raise InvalidInput("Stock cannot be negative.", code="negative_stock")
        problem = rules.pricing_problem(
            rules.SkuPricing(
                sku.supply_price, sku.retail_min, sku.retail_max, sku.suggested_retail_price
            ),
            commission_bp=commission_rate_bp,
            fee_bp=settings.KINSHOP_PLATFORM_FEE_BP,
        )
        if problem:
            raise InvalidInput(
                f"SKU {sku.code}: the prices do not work ({problem.replace('_', ' ')}).",
                code=problem,
                sku=sku.code,
            )
    product = Product.objects.create(
        supplier=supplier,
        title=title,
        description=description,
        commission_rate_bp=commission_rate_bp,
    )
    SKU.objects.bulk_create(
        [
            SKU(
                product=product,
                supplier=supplier,
                code=sku.code.strip(),
                name=sku.name.strip() or sku.code.strip(),
                supply_price=sku.supply_price,
                retail_min=sku.retail_min,
                retail_max=sku.retail_max,
                suggested_retail_price=sku.suggested_retail_price,
                stock=sku.stock,
                currency=settings.KINSHOP_CURRENCY,
            )
            for sku in skus
        ]
    )
    for position, (filename, content) in enumerate(images):
        add_product_image(product=product, filename=filename, content=content, position=position)
    return product


def add_product_image(*, product: Product, filename: str, content: bytes, position: int = 0):
    image = ProductImage(product=product, supplier_id=product.supplier_id, position=position)
    image.image.save(filename, ContentFile(content), save=False)
    image.save()
    _bump_versions(Product.objects.filter(pk=product.pk))
    return image


def adjust_stock(*, user, sku_id: int, delta: int) -> SKU:
    """Supplier staff add or remove stock; it never goes below zero."""
    sku = SKU.objects.filter(pk=sku_id).first()
    if sku is None:
        raise NotFound("No such SKU.")
    from kinshop.catalog.queries import is_staff_of

    if not is_staff_of(user, sku.supplier_id):
        raise Forbidden(
            "Only this supplier's staff can change its stock.", code="not_supplier_staff"
        )
    if delta >= 0:
        # Conditional, like taking stock: past the column's top PostgreSQL would fail
        # with a database error (a 500) instead of this clear refusal.
        added = SKU.objects.filter(pk=sku_id, stock__lte=MAX_STOCK - delta).update(
            stock=F("stock") + delta
        )
        if not added:
            raise Conflict(
                f"Stock cannot go above {MAX_STOCK} units.", code="stock_limit", max_stock=MAX_STOCK
            )
        _touch_if_stock_state_may_change({sku_id: delta})
    elif not take_stock(sku_id=sku_id, quantity=-delta):
        raise Conflict("Not enough stock to remove that many.", code="out_of_stock")
    sku.refresh_from_db(fields=["stock"])
    return sku


def take_stock(*, sku_id: int, quantity: int) -> bool:
    """Take `quantity` units if that many are in stock, in one conditional update."""
    taken = bool(
        SKU.objects.filter(pk=sku_id, stock__gte=quantity).update(stock=F("stock") - quantity)
    )
    if taken:
        _touch_if_stock_state_may_change({sku_id: -quantity})
    return taken


def reserve_stock(*, quantities: dict[int, int]) -> None:
    """Take stock for several SKUs, all or nothing, in two statements whatever
    the number of SKUs: lock the rows in primary-key order (so two orders never
    wait on each other in a cycle), then one conditional update. The caller's
    transaction undoes everything when it raises."""
    current = dict(
        SKU.objects.select_for_update()
        .filter(pk__in=sorted(quantities))
        .order_by("pk")
        .values_list("pk", "stock")
    )
    take_locked_stock(quantities=quantities, stock=current)


def take_locked_stock(*, quantities: dict[int, int], stock: dict[int, int]) -> None:
    """The second half of `reserve_stock`, for a caller that has locked the SKU
    rows itself (in primary-key order) and read their `stock`: one conditional
    update, all or nothing."""
    ids = sorted(quantities)
    current = stock
    short = [sku_id for sku_id in ids if current.get(sku_id, 0) < quantities[sku_id]]
    if short:
        raise Conflict("Not enough stock.", code="out_of_stock", sku_ids=short)
    enough = reduce(or_, (Q(pk=sku_id, stock__gte=quantities[sku_id]) for sku_id in ids))
    taken = SKU.objects.filter(enough).update(
        stock=Case(*(When(pk=sku_id, then=F("stock") - quantities[sku_id]) for sku_id in ids))
    )
    if taken != len(ids):  # only possible without row locks; the check constraint is the last guard
        raise Conflict("Not enough stock.", code="out_of_stock", sku_ids=ids)
    # The rows are locked and their stock known: touch the products only when
    # one of them is now low or sold out (a rare statement, never per line).
    if low := [
        sku_id for sku_id in ids if current[sku_id] - quantities[sku_id] <= rules.LOW_STOCK_AT
    ]:
        _bump_versions(Product.objects.filter(skus__pk__in=low))


def return_stock(*, quantities: dict[int, int]) -> None:
    """Put units back (a cancelled order, a restocked refund), in one statement."""
    ids = sorted(sku_id for sku_id, quantity in quantities.items() if quantity > 0)
    if ids:
        SKU.objects.filter(pk__in=ids).update(
            stock=Case(*(When(pk=sku_id, then=F("stock") + quantities[sku_id]) for sku_id in ids))
        )
        _touch_if_stock_state_may_change({sku_id: quantities[sku_id] for sku_id in ids})


def _touch_if_stock_state_may_change(changes: dict[int, int]) -> None:
    """Bump the version of the products whose shown stock state (in stock, low,
    sold out: of one SKU, or of the sum of any of a product's SKUs) may have
    changed with these stock changes (SKU id → units added, negative when
    taken), in one statement run after them. A state can change only if the
    SKU was low or sold out before or after the change, that is if its stock
    now is at most LOW_STOCK_AT plus what was added."""
    low = reduce(
        or_,
        (
            Q(skus__pk=sku_id, skus__stock__lte=rules.LOW_STOCK_AT + max(added, 0))
            for sku_id, added in changes.items()
        ),
    )
    _bump_versions(Product.objects.filter(low))


def products_changed(product_ids: Iterable[int]) -> None:
    """An operator edited these products (or their SKUs, images) in the admin:
    every page that shows them is stale from now on."""
    _bump_versions(Product.objects.filter(pk__in=list(product_ids)))


def _bump_versions(products) -> None:
    """Bump these products' versions; once that commits, count a change in the
    cache's products epoch (`queries.products_epoch`)."""
    if products.update(version=F("version") + 1):
        transaction.on_commit(_count_products_change)


def _count_products_change() -> None:
    from kinshop.catalog.queries import PRODUCTS_EPOCH_KEY

    try:
        cache.incr(PRODUCTS_EPOCH_KEY)
    except ValueError:  # not in the cache (yet, or any more)
        cache.set(PRODUCTS_EPOCH_KEY, 1, None)
