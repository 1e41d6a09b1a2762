"""Seed the bench database through Kinshop's own services (kinshop.testing),
except the load-test buyers, who are made in bulk (see `_bulk_buyers`).

Writes seed.json: shop handles, SKU ids with their initial stock, buyer tokens."""

from __future__ import annotations

import sys

from bench.common import save, setup_django

PRODUCTS = 100  # the main shop sells this many products, one SKU each
SMALL_SHOP_PRODUCTS = 10
BIG_STOCK = 10_000_000
FLASH_STOCK = int(sys.argv[1]) if len(sys.argv) > 1 else 300
FLASH_SALE_UNITS = int(sys.argv[2]) if len(sys.argv) > 2 else 50  # a campaigns flash sale
FLASH_SALE_BUYERS = int(sys.argv[3]) if len(sys.argv) > 3 else 500  # each tries once
BUYERS = 64


def _bulk_buyers(count: int, prefix: str = "bench-buyer") -> list[str]:
    """Bench-only fast path: `register()` hashes a password with Argon2 (about
    0.1 s each by design). Load-test buyers never sign in with a password, so
    they get an unusable one and a bearer token built exactly as
    `accounts.create_token` builds it (SHA-256 of a `new_token()`)."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from kinshop.accounts import rules
    from kinshop.accounts.models import ApiToken, User

    users = User.objects.bulk_create(
        [
            User(username=f"{prefix}-{number}", password=make_password(None))
            for number in range(count)
        ]
    )
    tokens = [rules.new_token() for _ in users]
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user=user,
                key_hash=rules.hash_token(token),
                prefix=token[:10],
                name="bench",
                # as create_token: a token holds only under the password it was issued with
                password_fingerprint=rules.password_fingerprint(user.password, settings.SECRET_KEY),
            )
            for user, token in zip(users, tokens, strict=True)
        ]
    )
    return tokens


def main() -> None:
    setup_django()
    from django.db import transaction

    from kinshop import testing

    with transaction.atomic():
        supplier, staff = testing.make_supplier(name="Bench Farm")

        def product(number: int, stock: int):
            return testing.make_product(
                staff=staff,
                title=f"Bench product {number}",
                commission_rate_bp=1000,
                skus=[
                    {
                        "code": f"BENCH-{number}",
                        "name": "500 g",
                        "supply_price": 6000,
                        "retail_min": 8000,
                        "retail_max": 12000,
                        "suggested_retail_price": 9900,
                        "stock": stock,
                    }
                ],
            )

        products = [product(number, BIG_STOCK) for number in range(PRODUCTS)]
        main_shop = testing.make_shop(handle="bench-main", products=products)
        small_shop = testing.make_shop(
            handle="bench-small", products=products[:SMALL_SHOP_PRODUCTS]
        )
        flash_product = product(PRODUCTS, FLASH_STOCK)
        flash_shop = testing.make_shop(handle="bench-flash", products=[flash_product])
        tokens = _bulk_buyers(BUYERS)
        flash_tokens = _bulk_buyers(FLASH_SALE_BUYERS, prefix="bench-flash-buyer")
        # A flash sale (campaigns) of FLASH_SALE_UNITS units of a SKU with ample
        # stock: the sale's own count, not the stock, is what buyers race for.
        import datetime as dt

        from kinshop.campaigns import services as campaigns
        from kinshop.core import clock

        sale_product = product(PRODUCTS + 1, BIG_STOCK)
        sale_shop = testing.make_shop(handle="bench-sale", products=[sale_product])
        now = clock.now()
        sale = campaigns.create_flash_sale(
            user=sale_shop.owner,
            shop=sale_shop,
            sku_id=sale_product.skus.get().id,
            price=8800,
            units=FLASH_SALE_UNITS,
            per_buyer_limit=1,
            starts_at=now - dt.timedelta(minutes=1),
            ends_at=now + dt.timedelta(hours=2),
            payment_minutes=30,
        )
        # The link a viral post spreads: a sharer's link to a product of the main shop.
        from kinshop.sharing import services as sharing

        link = sharing.create_share_link(
            sharer=testing.make_user("bench-sharer"), shop=main_shop, product=products[0]
        )

    sku_ids = [p.skus.get().id for p in products]
    save(
        "seed",
        {
            "main_shop": main_shop.handle,
            "small_shop": small_shop.handle,
            "flash_shop": flash_shop.handle,
            "skus": sku_ids,
            "flash_sku": flash_product.skus.get().id,
            "initial_stock": {
                **dict.fromkeys(map(str, sku_ids), BIG_STOCK),
                str(flash_product.skus.get().id): FLASH_STOCK,
            },
            "tokens": tokens,
            "supplier_id": supplier.id,
            "share_code": link.code,
            "flash_sale": sale.pk,
            "flash_sale_units": FLASH_SALE_UNITS,
            "flash_sale_tokens": flash_tokens,
        },
    )
    print(
        f"seeded {PRODUCTS + 2} products, 4 shops, a flash sale, "
        f"{BUYERS} + {FLASH_SALE_BUYERS} buyers"
    )


if __name__ == "__main__":
    main()
