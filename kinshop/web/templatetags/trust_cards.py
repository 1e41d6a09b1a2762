"""`{% supplier_trust supplier as card %}` and
`{% product_reviews product_id as reviews %}`: trust on any page (cached)."""

from __future__ import annotations

from django import template

from kinshop.web import trust_cards

register = template.Library()


@register.simple_tag
def supplier_trust(supplier) -> dict:
    return trust_cards.supplier_card(supplier.pk, is_verified=supplier.is_verified)


@register.simple_tag
def product_reviews(product_id: int) -> dict:
    return trust_cards.product_reviews(product_id)
