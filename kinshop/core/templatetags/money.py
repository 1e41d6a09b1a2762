from django import template

from kinshop.core.money import format_money

register = template.Library()


@register.filter
def yuan(amount, currency="CNY"):
    """{{ 9900|yuan }} → ¥99.00"""
    if amount is None or amount == "":
        return ""
    return format_money(int(amount), currency)
