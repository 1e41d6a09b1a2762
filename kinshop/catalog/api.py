from __future__ import annotations

import base64
import binascii
import datetime as dt

from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from kinshop.accounts.auth import optional_user
from kinshop.catalog import queries, rules, services
from kinshop.catalog.models import Product, Supplier
from kinshop.core.api import Page, PageParams, error_responses, paginate
from kinshop.core.errors import Forbidden, InvalidInput, NotFound

router = Router(tags=["suppliers and catalog"])

MAX_FEN = 10**12


class SupplierIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    license_no: str = Field(..., min_length=1, max_length=60)
    description: str = Field("", max_length=2000)


class SupplierOut(Schema):
    id: int
    name: str
    status: str
    is_verified: bool


class SkuIn(Schema):
    code: str = Field(..., min_length=1, max_length=60)
    name: str = Field(..., max_length=120)
    supply_price: int = Field(..., ge=0, le=MAX_FEN)
    retail_min: int = Field(..., ge=0, le=MAX_FEN)
    retail_max: int = Field(..., ge=0, le=MAX_FEN)
    suggested_retail_price: int = Field(..., ge=0, le=MAX_FEN)
    stock: int = Field(0, ge=0, le=10**9)


class ProductIn(Schema):
    title: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=10000)
    commission_rate_bp: int = Field(..., ge=0, le=10000)
    skus: list[SkuIn] = Field(..., min_length=1, max_length=100)


class SkuOut(Schema):
    id: int
    code: str
    name: str
    supply_price: int
    retail_min: int
    retail_max: int
    suggested_retail_price: int
    stock: int
    stock_state: str
    currency: str


class ProductOut(Schema):
    id: int
    title: str
    description: str
    commission_rate_bp: int
    supplier: SupplierOut
    images: list[str]
    skus: list[SkuOut]


class StockIn(Schema):
    delta: int = Field(..., ge=-(10**9), le=10**9)


class StockOut(Schema):
    sku_id: int
    stock: int


def supplier_out(supplier: Supplier) -> dict:
    return {
        "id": supplier.id,
        "name": supplier.name,
        "status": supplier.status,
        "is_verified": supplier.is_verified,
    }


def sku_out(sku) -> dict:
    return {
        "id": sku.id,
        "code": sku.code,
        "name": sku.name,
        "supply_price": sku.supply_price,
        "retail_min": sku.retail_min,
        "retail_max": sku.retail_max,
        "suggested_retail_price": sku.suggested_retail_price,
        "stock": sku.stock,
        "stock_state": rules.stock_state(sku.stock),
        "currency": sku.currency,
    }


def product_out(product: Product) -> dict:
    return {
        "id": product.id,
        "title": product.title,
        "description": product.description,
        "commission_rate_bp": product.commission_rate_bp,
        "supplier": supplier_out(product.supplier),
        "images": [image.image.url for image in product.images.all()],
        "skus": [sku_out(sku) for sku in product.skus.all()],
    }


@router.post(
    "/suppliers",
    operation_id="apply_supplier",
    response={201: SupplierOut, **error_responses(400, 401, 403, 409, 422)},
)
def apply_supplier(request, payload: SupplierIn):
    with transaction.atomic():
        supplier = services.apply_supplier(
            user=request.auth,
            name=payload.name,
            license_no=payload.license_no,
            description=payload.description,
        )
    return Status(201, supplier_out(supplier))


@router.post(
    "/suppliers/{supplier_id}/verify",
    operation_id="verify_supplier",
    response={200: SupplierOut, **error_responses(401, 403, 404, 409)},
)
def verify_supplier(request, supplier_id: int):
    if not request.auth.is_staff:
        raise Forbidden("Only an operator can verify a supplier.", code="not_operator")
    with transaction.atomic():
        supplier = get_object_or_404(Supplier, pk=supplier_id)
        supplier = services.verify_supplier(supplier=supplier, actor=request.auth)
    return supplier_out(supplier)


class DocumentOut(Schema):
    id: int
    kind: str
    original_name: str
    uploaded_at: dt.datetime


class DocumentIn(Schema):
    kind: str = Field(..., max_length=20)
    filename: str = Field("", max_length=200)
    # The file as base64 (a `data:...;base64,` prefix is allowed); at most 10 MB.
    content: str = Field(..., min_length=4, max_length=14_000_000)


@router.post(
    "/suppliers/{supplier_id}/documents",
    operation_id="upload_supplier_document",
    response={201: DocumentOut, **error_responses(401, 403, 404, 422)},
)
def upload_supplier_document(request, supplier_id: int, payload: DocumentIn):
    """Supplier staff upload a licence or brand authorisation (PDF, JPEG or PNG),
    kept privately: only the operator sees it, in the admin."""
    text = (
        payload.content.partition(",")[2]
        if payload.content.startswith("data:")
        else payload.content
    )
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("The file is not valid base64.", code="invalid_document") from None
    with transaction.atomic():
        supplier = get_object_or_404(Supplier, pk=supplier_id)
        document = services.upload_supplier_document(
            user=request.auth,
            supplier=supplier,
            kind=payload.kind,
            filename=payload.filename,
            content=content,
        )
    return Status(
        201,
        {
            "id": document.pk,
            "kind": document.kind,
            "original_name": document.original_name,
            "uploaded_at": document.uploaded_at,
        },
    )


@router.post(
    "/products",
    operation_id="create_product",
    response={201: ProductOut, **error_responses(400, 401, 403, 409, 422)},
)
def create_product(request, payload: ProductIn):
    with transaction.atomic():
        product = services.create_product(
            user=request.auth,
            title=payload.title,
            description=payload.description,
            commission_rate_bp=payload.commission_rate_bp,
            skus=[services.NewSku(**sku.dict()) for sku in payload.skus],
        )
    return Status(201, product_out(queries.products_with_details().get(pk=product.pk)))


@router.get(
    "/products",
    operation_id="list_products",
    auth=None,
    response={200: Page[ProductOut], **error_responses(422)},
)
def list_products(request, page: Query[PageParams], q: str = Query("", max_length=100)):
    products = queries.market_products().order_by("id")
    if q:
        products = products.filter(title__icontains=q)
    return paginate(products, page, product_out)


@router.get(
    "/products/{product_id}",
    operation_id="get_product",
    auth=None,
    response={200: ProductOut, **error_responses(404)},
)
def get_product(request, product_id: int):
    product = queries.products_with_details().filter(pk=product_id).first()
    if product is None:
        raise NotFound("No such product.", code="product_not_found")
    if not (product.supplier.is_verified and product.is_active):
        # Unlisted products are visible only to their own supplier's staff.
        user = optional_user(request)
        if not (queries.is_staff_of(user, product.supplier_id) or user.is_staff):
            raise NotFound("No such product.", code="product_not_found")
    return product_out(product)


@router.post(
    "/skus/{sku_id}/stock",
    operation_id="adjust_stock",
    response={200: StockOut, **error_responses(401, 403, 404, 409, 422)},
)
def adjust_stock(request, sku_id: int, payload: StockIn):
    with transaction.atomic():
        sku = services.adjust_stock(user=request.auth, sku_id=sku_id, delta=payload.delta)
    return {"sku_id": sku.id, "stock": sku.stock}
