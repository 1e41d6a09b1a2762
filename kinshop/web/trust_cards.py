"""Trust shown on the pages every audience sees (storefront, product page, the
shopkeepers' market): the trust card of a supplier or shop and a product's
reviews. Read through trust's queries and kept in the cache for a few minutes
(the score moves slowly; a page that adds a review or a reply forgets the
product's entry at once), so a cached page still costs what it cost before."""

from __future__ import annotations

from django.core.cache import cache

from kinshop.core import clock
from kinshop.trust import queries

CARD_SECONDS = 300
REVIEWS_SHOWN = 10


def supplier_card(supplier_id: int, *, is_verified: bool) -> dict:
    key = f"trust:supplier:{supplier_id}:{int(is_verified)}"
    card = cache.get(key)
    if card is None:
        card = queries.trust_summary(queries.supplier_signals(supplier_id), is_verified=is_verified)
        cache.set(key, card, CARD_SECONDS)
    return card


def shop_card_and_lifetime(
    shop_id: int, version: int = 0, *, is_suspended: bool = False
) -> tuple[dict, int]:
    """The shop's card and the seconds it may still be shown: a page kept with
    the card in it is kept no longer than that, so the card a visitor sees is
    never older than CARD_SECONDS, in a kept page or not."""
    key = f"trust:shop:{shop_id}:{version}:{int(is_suspended)}"
    kept = cache.get(key)
    now = clock.now().timestamp()
    if kept is None or kept["until"] <= now:
        card = queries.shop_summary(shop_id, is_suspended=is_suspended)
        kept = {"card": card, "until": now + CARD_SECONDS}
        cache.set(key, kept, CARD_SECONDS)
    return kept["card"], max(1, int(kept["until"] - now))


def product_reviews(product_id: int) -> dict:
    key = f"trust:reviews:{product_id}"
    found = cache.get(key)
    if found is None:
        distribution = queries.rating_distribution(product_id)
        count = sum(distribution.values())
        total = sum(int(stars) * n for stars, n in distribution.items())
        reviews = [
            {
                "id": review.pk,
                "author": f"{review.author.username[:1]}***",
                "rating": review.rating,
                "stars": "★" * review.rating + "☆" * (5 - review.rating),
                "text": review.text,
                "follow_up": review.follow_up,
                "is_refunded": review.line.refunded_amount > 0,
                "sku_name": review.line.sku_name,
                "created_at": review.created_at,
                "images": [picture.image.url for picture in review.images.all()],
                "replies": [
                    {"role": reply.role, "text": reply.text} for reply in review.replies.all()
                ],
            }
            for review in queries.product_reviews(product_id)[:REVIEWS_SHOWN]
        ]
        found = {
            "count": count,
            "average": round(total / count, 1) if count else None,
            "distribution": [
                {
                    "stars": stars,
                    "count": distribution[stars],
                    "percent": distribution[stars] * 100 // count if count else 0,
                }
                for stars in ("5", "4", "3", "2", "1")
            ],
            "reviews": reviews,
        }
        cache.set(key, found, CARD_SECONDS)
    return found


def forget_product(product_id: int) -> None:
    cache.delete(f"trust:reviews:{product_id}")
