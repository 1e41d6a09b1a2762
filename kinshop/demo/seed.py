"""Build the demo platform through the real services, so it obeys every rule
production does: suppliers apply and an operator verifies them, products pass
the band and commission checks, shops price inside each band."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.test import override_settings

from kinshop.accounts import services as accounts
from kinshop.accounts.models import User
from kinshop.campaigns import rules as campaign_rules
from kinshop.campaigns import services as campaigns
from kinshop.catalog import services as catalog
from kinshop.catalog.models import SKU
from kinshop.core import clock, tasks
from kinshop.core.errors import InvalidInput
from kinshop.demo import data, images
from kinshop.insight import services as insight
from kinshop.ledger import services as ledger
from kinshop.live import services as live
from kinshop.ops import jobs
from kinshop.orders import services as orders
from kinshop.orders.models import Order
from kinshop.payments import services as payments
from kinshop.sharing import services as sharing
from kinshop.sharing.models import ShareLink
from kinshop.shops import services as shops
from kinshop.shops.models import SelectionPrice, Shop
from kinshop.wholesale import services as wholesale

# The story is told with the default windows, whatever the environment says, so
# that the same orders are settled, pending or shipped on every demo.
STORY_SETTINGS = {
    "KINSHOP_PAYMENT_SANDBOX": True,
    "KINSHOP_PAYMENT_TIMEOUT_MINUTES": 30,
    "KINSHOP_AUTO_CONFIRM_DAYS": 10,
    "KINSHOP_AFTER_SALES_DAYS": 7,
    "KINSHOP_ATTRIBUTION": "last_click",
    "KINSHOP_ATTRIBUTION_DAYS": 7,
}


def seed() -> bool:
    """Create the demo operator, suppliers, products, shops and consumers.

    Idempotent: when the demo operator already exists nothing is touched and
    False is returned, so `kinshop demo` can be run again on the same database.
    """
    if User.objects.filter(username=data.OPERATOR_USERNAME).exists():
        return False
    with transaction.atomic():
        operator = _person(data.OPERATOR, is_staff=True, is_superuser=True)
        products = {}
        for supplier_data in data.SUPPLIERS:
            staff = _person(supplier_data.staff)
            supplier = catalog.apply_supplier(
                user=staff,
                name=supplier_data.name,
                license_no=supplier_data.license_no,
                description=supplier_data.description,
            )
            catalog.verify_supplier(
                supplier=supplier, actor=operator, reason="demo: licence checked"
            )
            for product_data in supplier_data.products:
                products[product_data.key] = catalog.create_product(
                    user=staff,
                    title=product_data.title,
                    description=product_data.description,
                    commission_rate_bp=product_data.commission_rate_bp,
                    skus=[
                        catalog.NewSku(
                            code=sku.code,
                            name=sku.name,
                            supply_price=sku.supply_price,
                            retail_min=sku.retail_min,
                            retail_max=sku.retail_max,
                            suggested_retail_price=sku.suggested_retail_price,
                            stock=sku.stock,
                        )
                        for sku in product_data.skus
                    ],
                    images=[
                        (f"{product_data.key}.jpg", images.product_image(product_data.artwork))
                    ],
                )
        for shop_data in data.SHOPS:
            keeper = _person(shop_data.keeper)
            shop = shops.open_shop(
                user=keeper, handle=shop_data.handle, name=shop_data.name, bio=shop_data.bio
            )
            shops.set_shop_avatar(
                user=keeper,
                shop=shop,
                filename=f"{shop_data.handle}.png",
                content=images.avatar_image(shop_data.avatar),
            )
            for key in shop_data.product_keys:
                product = products[key]
                shops.add_selection(
                    user=keeper,
                    shop=shop,
                    product_id=product.id,
                    prices={
                        sku.id: retail_price(sku, shop_data.pricing) for sku in product.skus.all()
                    },
                )
        for consumer in data.CONSUMERS:
            _person(consumer)
        with override_settings(**STORY_SETTINGS):
            _story(operator)
    return True


# ---- the story: shares, clicks, orders in every status, after-sales, withdrawals ----


def _at(days_ago: float):
    """Run the block as if it were `days_ago` days before now."""
    return clock.travel(-dt.timedelta(days=days_ago))


def _story(operator: User) -> None:
    people = {user.username: user for user in User.objects.all()}
    shops_by_handle = {shop.handle: shop for shop in Shop.objects.all()}
    products = {
        key: product_by_title(product.title) for key, product in data.all_products().items()
    }
    links: dict[tuple[str, str, str], ShareLink] = {}
    for number, share in enumerate(data.SHARES):
        shop = shops_by_handle[share.shop]
        product = products[share.product_key] if share.product_key else None
        link = sharing.create_share_link(sharer=people[share.sharer], shop=shop, product=product)
        links[share.sharer, share.shop, share.product_key] = link
        for click in range(share.anonymous_clicks):
            with _at(click * 1.7 % 20 + 0.3):
                sharing.record_click(
                    code=link.code,
                    visitor_key=f"demo-visitor-{number}-{click}",
                    channel=share.channel if click % 3 else "link",
                )
    for story in data.ORDERS:
        _order(story, operator=operator, people=people, shops=shops_by_handle, links=links)
    _wholesale(shops_by_handle)
    _browsing(shops_by_handle)
    _live_rooms(people, shops_by_handle, products)
    jobs.run_due()  # ... and the insight rollup, so the charts have data
    for plan in data.WITHDRAWALS:
        user = people[plan.username]
        accounts.verify_identity(user=user, real_name=plan.real_name, id_number=plan.id_number)
        for amount in plan.paid_out:
            withdrawal = ledger.request_withdrawal(user=user, amount=amount)
            ledger.approve_withdrawal(
                withdrawal=withdrawal, actor=operator, reason="demo: identity matches"
            )
        for amount in plan.requested:
            ledger.request_withdrawal(user=user, amount=amount)


def _live_rooms(people: dict[str, User], shops_by_handle: dict[str, Shop], products) -> None:
    """A room on air for half an hour: pinned products, Xiaomei's share of it
    that brought Lao Zhang, a chat, and Lao Zhang's paid order in the room
    (Xiaomei's commission, channel live); and a room scheduled for Friday."""
    shop = shops_by_handle[data.LIVE_SHOP]
    keeper = shop.owner
    live.create_room(
        user=keeper,
        shop=shop,
        title=data.LIVE_LATER_TITLE,
        scheduled_at=clock.now() + dt.timedelta(days=3),
    )
    with _at(35 / 1440):
        room = live.create_room(
            user=keeper, shop=shop, title=data.LIVE_TITLE, scheduled_at=clock.now()
        )
    with _at(30 / 1440):
        live.start_room(user=keeper, room_id=room.pk)
        for key in data.LIVE_PINS:
            live.pin_product(user=keeper, room_id=room.pk, product_id=products[key].id)
        link = live.share_room(sharer=people["xiaomei"], room_id=room.pk)
    with _at(19 / 1440):
        sharing.record_click(code=link.code, viewer=people["laozhang"])
    for username, minutes_ago, text in data.LIVE_CHAT:
        with _at(minutes_ago / 1440):
            live.post_message(user=people[username], room_id=room.pk, text=text)
    for viewer in ("xiaomei", "laozhang", "amy-li"):
        live.record_visit(room_id=room.pk, visitor_key="", user=people[viewer])
    live.record_peak(room.pk, 3)
    address = data.ADDRESSES["laozhang"]
    sku = products[data.LIVE_PINS[0]].skus.order_by("id").first()
    with _at(3 / 1440):
        placed = live.place_room_order(
            buyer=people["laozhang"],
            room_id=room.pk,
            lines=[orders.LineRequest(sku_id=sku.id, quantity=2)],
            address=orders.Address(
                name=address.name, phone=address.phone, region=address.region, detail=address.detail
            ),
        )
        payment = payments.start_payment(
            user=people["laozhang"], order_id=placed.order_id, provider="sandbox"
        )
        payments.sandbox_confirm(user=people["laozhang"], payment_id=payment.id)
        live.announce_paid_orders(clock.now())  # the room's viewers see it, paid
    _live_deal(keeper, shop, room, products[data.LIVE_DEAL_PRODUCT])
    _campaigns(
        keeper,
        shop,
        exclude_product=products[data.LIVE_DEAL_PRODUCT],
        buyer=people["laozhang"],
        address=orders.Address(
            name=address.name, phone=address.phone, region=address.region, detail=address.detail
        ),
    )


def _allowed_price(shop: Shop, sku, *candidates: int) -> int:
    """The first of `candidates` inside the SKU's band that covers its costs,
    else the shop's own price."""
    retail = SelectionPrice.objects.get(shop=shop, sku=sku).retail_price
    terms = campaign_rules.SkuTerms(
        supply_price=sku.supply_price,
        retail_min=sku.retail_min,
        retail_max=sku.retail_max,
        commission_bp=sku.product.commission_rate_bp,
        fee_bp=settings.KINSHOP_PLATFORM_FEE_BP,
    )
    return next(
        (price for price in candidates if campaign_rules.price_problem(price, terms) is None),
        retail,
    )


def _campaigns(
    keeper: User, shop: Shop, *, exclude_product, buyer: User, address: orders.Address
) -> None:
    """A group buy of three at 15% off and a pre-sale (20% deposit now, the
    balance in three to five days' time) on two more of the shop's products;
    the buyer has paid the deposit of one unit and awaits the balance."""
    selection = (
        SelectionPrice.objects.filter(shop=shop)
        .exclude(sku__product=exclude_product)
        .select_related("sku", "sku__product")
        .order_by("sku_id")
    )
    group_price, presale_price = selection[0], selection[1]
    retail = group_price.retail_price
    now = clock.now()
    campaigns.create_group_buy(
        user=keeper,
        shop=shop,
        sku_id=group_price.sku_id,
        group_price=_allowed_price(shop, group_price.sku, retail * 85 // 100, retail * 9 // 10),
        leader_price=None,
        group_size=3,
        hours=24,
        ends_at=now + dt.timedelta(days=7),
    )
    price = presale_price.retail_price
    presale = campaigns.create_presale(
        user=keeper,
        shop=shop,
        sku_id=presale_price.sku_id,
        price=price,
        deposit=max(1, price // 5),
        balance_starts_at=now + dt.timedelta(days=3),
        balance_ends_at=now + dt.timedelta(days=5),
        ships_on=(now + dt.timedelta(days=6)).date(),
    )
    order = campaigns.buy_presale(user=buyer, presale_id=presale.pk, quantity=1, address=address)
    payment = payments.start_payment(user=buyer, order_id=order.pk, provider="sandbox")
    payments.sandbox_confirm(user=buyer, payment_id=payment.id)


def _live_deal(keeper: User, shop: Shop, room, product) -> None:
    """A flash deal running in the room for the next two hours: 10% off the
    shop's price where the SKU's band and costs allow it, else the shop's price."""
    sku = product.skus.order_by("id").first()
    retail = SelectionPrice.objects.get(shop=shop, sku=sku).retail_price
    terms = campaign_rules.SkuTerms(
        supply_price=sku.supply_price,
        retail_min=sku.retail_min,
        retail_max=sku.retail_max,
        commission_bp=product.commission_rate_bp,
        fee_bp=settings.KINSHOP_PLATFORM_FEE_BP,
    )
    price = next(
        candidate
        for candidate in (retail * 9 // 10, sku.retail_min, retail)
        if campaign_rules.price_problem(candidate, terms) is None
    )
    with _at(2 / 1440):
        live.create_flash_sale(
            user=keeper,
            shop=shop,
            sku_id=sku.id,
            price=price,
            units=data.LIVE_DEAL_UNITS,
            per_buyer_limit=2,
            starts_at=clock.now(),
            ends_at=clock.now() + dt.timedelta(hours=2),
            payment_minutes=15,
            live_room_id=room.pk,
        )


def _wholesale(shops_by_handle: dict[str, Shop]) -> None:
    """Suppliers set tiers; two keepers buy stock, pay, receive it and sell
    part of it offline. Their retail reach shows on the consoles and the admin."""
    skus = {sku.code: sku for sku in SKU.objects.filter(code__in=data.WHOLESALE_TIERS)}
    for code, tiers in data.WHOLESALE_TIERS.items():
        sku = skus[code]
        wholesale.set_tiers(
            user=sku.supplier.memberships.order_by("id")[0].user,
            sku_id=sku.id,
            tiers=[wholesale.Tier(quantity, price) for quantity, price in tiers],
        )
    for buy in data.WHOLESALE_BUYS:
        shop, sku = shops_by_handle[buy.shop], skus[buy.sku_code]
        with _at(buy.days_ago):
            order = wholesale.place_order(
                user=shop.owner, shop=shop, lines=[wholesale.LineRequest(sku.id, buy.quantity)]
            )
            payment = payments.start_payment(user=shop.owner, order_id=order.id, provider="sandbox")
            payments.sandbox_confirm(user=shop.owner, payment_id=payment.id)
        with _at(buy.days_ago - 1):
            orders.ship(
                user=_staff_of(order),
                order_id=order.id,
                carrier="顺丰速运 SF Express",
                tracking_no=f"SF{order.id:06d}W",
            )
        for days_ago, quantity, price in buy.offline_sales:
            with _at(days_ago):
                wholesale.record_offline_sale(
                    user=shop.owner, shop=shop, sku_id=sku.id, quantity=quantity, unit_price=price
                )


DEMO_BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile MicroMessenger"


def _browsing(shops_by_handle: dict[str, Shop]) -> None:
    """Visitors who looked and did not (yet) buy: over the last 60 days, a few
    devices a day view each shop's products, and some put one in the cart."""
    from kinshop.shops.models import Selection

    selections = list(
        Selection.objects.order_by("shop_id", "id").values_list("shop_id", "product_id")
    )
    for day in range(60):
        for number, (shop_id, product_id) in enumerate(selections):
            views = (day * 7 + number * 3) % 5 + (2 if day < 30 else 1)
            for view in range(views):
                with _at(day + view / 24 + 0.1):
                    device = f"demo-device-{(day * 13 + number * 5 + view) % 97:02d}-browsing"
                    insight.record_event(
                        kind="view",
                        shop_id=shop_id,
                        product_id=product_id,
                        device_id=device,
                        user_agent=DEMO_BROWSER,
                    )
                    if (day + view + number) % 6 == 0:
                        insight.record_event(
                            kind="cart",
                            shop_id=shop_id,
                            product_id=product_id,
                            device_id=device,
                            user_agent=DEMO_BROWSER,
                        )


def product_by_title(title: str):
    from kinshop.catalog.models import Product

    return Product.objects.get(title=title)


def _order(story: data.DemoOrder, *, operator, people, shops, links) -> Order:
    buyer = people[story.buyer]
    shop = shops[story.shop]
    skus = {
        sku.code: sku
        for sku in SKU.objects.filter(code__in=[item.sku_code for item in story.items])
    }
    placed = story.days_ago
    if story.sharer:
        first = story.items[0].product_key
        link = (
            links.get((story.sharer, story.shop, first))
            or links.get((story.sharer, story.shop, ""))
            or sharing.create_share_link(
                sharer=people[story.sharer],
                shop=shop,
                product=skus[story.items[0].sku_code].product,
            )
        )
        with _at(placed + 0.01):
            sharing.record_click(code=link.code, viewer=buyer, channel=story.channel)
    with _at(placed + 0.02):  # the buyer looked first and put it in the cart
        for kind in ("view", "cart"):
            insight.record_event(
                kind=kind,
                shop_id=shop.id,
                product_id=skus[story.items[0].sku_code].product_id,
                user_id=buyer.id,
                user_agent=DEMO_BROWSER,
            )
    address = data.ADDRESSES[story.buyer]
    with _at(placed):
        order = orders.place_order(
            buyer=buyer,
            shop=shop,
            lines=[
                orders.LineRequest(sku_id=skus[item.sku_code].id, quantity=item.quantity)
                for item in story.items
            ],
            address=orders.Address(
                name=address.name, phone=address.phone, region=address.region, detail=address.detail
            ),
        )
    if story.fate == "cancelled":
        return order  # the payment-deadline job cancels it
    if story.fate == "offline_waiting":
        payments.start_payment(user=buyer, order_id=order.id, provider="offline")
        return order
    with _at(placed):
        payment = payments.start_payment(user=buyer, order_id=order.id, provider="sandbox")
    if story.fate == "pending_payment":
        return order
    with _at(placed - 0.003):
        payments.sandbox_confirm(user=buyer, payment_id=payment.id)
    staff = _staff_of(order)
    if story.fate == "refunded":
        with _at(placed - 0.2):
            refund = orders.request_refund(
                user=buyer, order_id=order.id, amount=order.total, reason=story.reason
            )
        with _at(placed - 0.4):
            payments.approve_refund(
                user=staff, refund_id=refund.id, restock=True, note="已退款，欢迎再来 · Refunded"
            )
            _carry_out_money_calls()
        return order
    if story.fate == "paid":
        return order
    with _at(placed - 1):
        for number, supplier_staff in enumerate(staff_of_every_part(order)):
            orders.ship(
                user=supplier_staff,
                order_id=order.id,
                carrier="顺丰速运 SF Express" if number % 2 == 0 else "中通快递 ZTO",
                tracking_no=f"SF{order.id:06d}{number}{int(placed * 100):05d}",
            )
    if story.fate in ("shipped", "auto_confirmed"):
        return order
    with _at(placed - 2):
        orders.confirm_receipt(user=buyer, order_id=order.id)
    if story.fate in ("partial_refund", "refund_requested"):
        with _at(placed - 2.5):
            refund = orders.request_refund(
                user=buyer, order_id=order.id, amount=story.refund, reason=story.reason
            )
        if story.fate == "partial_refund":
            with _at(placed - 2.8):
                payments.approve_refund(user=staff, refund_id=refund.id, note="已同意 · Agreed")
                _carry_out_money_calls()
    return order


def _carry_out_money_calls() -> None:
    """The demo loads in one transaction, so the task worker would see its
    refunds only once everything is loaded: run them here, at the story's time,
    as the worker would (the sandbox provider answers in-process)."""
    with tasks.loading_in_one_transaction():
        tasks.run_ready()


def _staff_of(order: Order) -> User:
    return staff_of_every_part(order)[0]


def staff_of_every_part(order: Order) -> list[User]:
    """A staff member of each supplier with a part in the order, in supplier order."""
    from kinshop.catalog.models import SupplierMembership

    supplier_ids = sorted(order.fulfilments.values_list("supplier_id", flat=True))
    staff: dict[int, User] = {}
    for membership in SupplierMembership.objects.filter(
        supplier_id__in=supplier_ids
    ).select_related("user"):
        staff.setdefault(membership.supplier_id, membership.user)
    return [staff[supplier_id] for supplier_id in supplier_ids]


def retail_price(sku: SKU, pricing: str) -> int:
    """Where a shopkeeper prices inside the band; always within [retail_min, retail_max]."""
    if pricing == "floor":
        return sku.retail_min
    if pricing == "premium":
        halfway = (sku.retail_max - sku.suggested_retail_price) // 2
        return sku.suggested_retail_price + halfway // 100 * 100
    return sku.suggested_retail_price


def _person(person: data.Person, *, is_staff: bool = False, is_superuser: bool = False) -> User:
    try:
        user = accounts.register(
            username=person.username, password=data.PASSWORD, phone=person.phone
        )
    except InvalidInput as error:
        if error.code != "weak_password":
            raise
        # A stricter validator set than the demo password meets: sign up with a
        # strong one, then give the demo account the easy password anyway.
        user = accounts.register(
            username=person.username, password=secrets.token_urlsafe(24), phone=person.phone
        )
        user.set_password(data.PASSWORD)
    user.display_name = person.display_name
    user.is_staff = is_staff
    user.is_superuser = is_superuser
    user.save()
    return user
