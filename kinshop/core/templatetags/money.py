from django import template

from kinshop.core.money import format_money

register = template.Library()


@register.filter
def yuan(amount, currency="CNY"):
    """{{ 9900|yuan }} → ¥99.00"""
    if amount is None or amount == "":
        return ""
    return format_money(int(amount), currency)


@register.filter
def yuan_plain(amount) -> str:
    """{{ 9900|yuan_plain }} → 99.00: an amount to put back in a form field."""
    if amount is None or amount == "":
        return ""
    sign, fen = ("-" if int(amount) < 0 else ""), abs(int(amount))
    return f"{sign}{fen // 100}.{fen % 100:02d}"
