"""A small, complete Kinshop world built through the real services: every role
the permission matrix asks about, and one object of each kind for them to act on.

Built once per test module (the `world_once` fixture); each case runs in a
savepoint rolled back after it, so no case can see what another did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kinshop import testing
from kinshop.accounts import services as accounts
from kinshop.accounts.models import User
from kinshop.catalog.models import SKU, Product, Supplier
from kinshop.core import clock
from kinshop.ledger import services as ledger
from kinshop.ledger.models import Withdrawal
from kinshop.orders import services as orders
from kinshop.orders.models import Order, Refund
from kinshop.orders.rules import Address, LineRequest
from kinshop.payments import services as payments
from kinshop.payments.models import Payment
from kinshop.sharing import services as sharing
from kinshop.sharing.models import ShareLink
from kinshop.shops.models import Shop
from kinshop.wholesale import services as wholesale

ROLES = (
    "anonymous",
    "buyer",
    "other_buyer",
    "shopkeeper",
    "other_shopkeeper",
    "supplier_staff",
    "other_supplier_staff",
    "operator",
)

ADDRESS = {
    "name": "王芳",
    "phone": "13800138000",
    "region": "浙江省杭州市",
    "detail": "西湖路 1 号",
}
ID_NUMBER = "11010519491231002X"
PRICE = 9900  # inside the band 8000..12000 of testing.make_product's SKU
COMMISSION_BP = 1000


@dataclass
class World:
    users: dict[str, User | None]
    supplier: Supplier
    product: Product
    sku: SKU
    other_product: Product
    pending_supplier: Supplier
    shop: Shop
    other_shop: Shop
    share_link: ShareLink
    paid_order: Order  # paid, not shipped; has an open refund request
    shipped_order: Order
    pending_order: Order  # awaiting payment, with a sandbox payment started
    pending_payment: Payment
    refund: Refund
    withdrawal: Withdrawal  # requested by the sharer (other_buyer), awaiting approval
    extra: dict[str, object] = field(default_factory=dict)


def _place(buyer: User, shop: Shop, sku: SKU, quantity: int = 1, share_code: str = "") -> Order:
    return orders.place_order(
        buyer=buyer,
        shop=shop,
        lines=[LineRequest(sku.id, quantity)],
        address=Address(**ADDRESS),
        share_code=share_code,
    )


def _pay(order: Order) -> Payment:
    payment = payments.start_payment(user=order.buyer, order_id=order.id, provider="sandbox")
    return payments.sandbox_confirm(user=order.buyer, payment_id=payment.id)


def build_world() -> World:
    """Roles: a buyer with orders in every state; another buyer who shared the
    shop, earned a settled commission on the buyer's first order, verified their
    identity and asked to withdraw some of it; a shopkeeper selling the
    supplier's product; another shopkeeper selling another supplier's; the
    staff of both (verified) suppliers; an operator."""
    operator = testing.make_operator(testing.unique("operator"))
    supplier, supplier_staff = testing.make_supplier()
    _other_supplier, other_supplier_staff = testing.make_supplier()
    pending_supplier, _ = testing.make_supplier(verified=False)
    product = testing.make_product(staff=supplier_staff, commission_rate_bp=COMMISSION_BP)
    other_product = testing.make_product(staff=other_supplier_staff)
    shop = testing.make_shop(products=[product], price=PRICE)
    other_shop = testing.make_shop(products=[other_product], price=PRICE)
    buyer = testing.make_user(testing.unique("buyer"))
    sharer = testing.make_user(testing.unique("sharer"))
    sku = product.skus.get()

    # The sharer's commission: 3 units × 9900 × 10 % = 2970 fen, settled.
    link = sharing.create_share_link(sharer=sharer, shop=shop)
    settled = _place(buyer, shop, sku, quantity=3, share_code=link.code)
    _pay(settled)
    orders.ship(user=supplier_staff, order_id=settled.id, carrier="SF", tracking_no="SF001")
    orders.confirm_receipt(user=buyer, order_id=settled.id)
    ledger.settle_due(now=clock.now() + dt.timedelta(days=60))
    accounts.verify_identity(user=sharer, real_name="王芳", id_number=ID_NUMBER)
    withdrawal = ledger.request_withdrawal(user=sharer, amount=1000)

    paid = _place(buyer, shop, sku)
    _pay(paid)
    refund = orders.request_refund(user=buyer, order_id=paid.id, amount=100, reason="dented box")

    shipped = _place(buyer, shop, sku)
    _pay(shipped)
    orders.ship(user=supplier_staff, order_id=shipped.id, carrier="SF", tracking_no="SF002")

    # The shop holds 5 units bought wholesale (paid and shipped).
    wholesale.set_tiers(user=supplier_staff, sku_id=sku.id, tiers=[wholesale.Tier(1, 5800)])
    stock = wholesale.place_order(
        user=shop.owner, shop=shop, lines=[wholesale.LineRequest(sku.id, 5)]
    )
    _pay(stock)
    orders.ship(user=supplier_staff, order_id=stock.id, carrier="SF", tracking_no="SF003")

    pending = _place(buyer, shop, sku)
    pending_payment = payments.start_payment(user=buyer, order_id=pending.id, provider="sandbox")

    return World(
        users={
            "anonymous": None,
            "buyer": buyer,
            "other_buyer": sharer,
            "shopkeeper": shop.owner,
            "other_shopkeeper": other_shop.owner,
            "supplier_staff": supplier_staff,
            "other_supplier_staff": other_supplier_staff,
            "operator": operator,
        },
        supplier=supplier,
        product=product,
        sku=sku,
        other_product=other_product,
        pending_supplier=pending_supplier,
        shop=shop,
        other_shop=other_shop,
        share_link=link,
        paid_order=paid,
        shipped_order=shipped,
        pending_order=pending,
        pending_payment=pending_payment,
        refund=refund,
        withdrawal=withdrawal,
    )


def new_sku(code: str | None = None) -> dict:
    return {
        "code": code or testing.unique("SKU-"),
        "name": "1 kg",
        "supply_price": 6000,
        "retail_min": 8000,
        "retail_max": 12000,
        "suggested_retail_price": 9900,
        "stock": 10,
    }
