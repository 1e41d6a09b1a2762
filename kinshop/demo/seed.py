"""Build the demo platform through the real services, so it obeys every rule
production does: suppliers apply and an operator verifies them, products pass
the band and commission checks, shops price inside each band."""

from __future__ import annotations

import secrets

from django.db import transaction

from kinshop.accounts import services as accounts
from kinshop.accounts.models import User
from kinshop.catalog import services as catalog
from kinshop.catalog.models import SKU
from kinshop.core.errors import InvalidInput
from kinshop.demo import data, images
from kinshop.shops import services as shops


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
    return True


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
