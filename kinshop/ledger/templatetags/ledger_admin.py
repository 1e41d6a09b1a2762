"""Template tags for the operator's admin index: the ledger's health and the
compliance report, fetched where they are shown (no context processor, so no
other page pays for them)."""

from django import template
from django.utils.translation import gettext_lazy as _

from kinshop.ledger import queries

register = template.Library()

# The admin's title (templates/admin/base_site.html); kept here so that it is
# in the ledger app's translation catalog: zh-hans "Kinshop 运营后台".
SITE_HEADER = _("Kinshop operator console")


@register.simple_tag
def ledger_health() -> dict:
    return queries.health()


@register.simple_tag
def compliance_report() -> dict:
    return queries.compliance_report()


@register.filter
def percent(value) -> str:
    """0.125 → '12.5%'."""
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return ""
