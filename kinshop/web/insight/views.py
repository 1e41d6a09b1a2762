"""Insight pages: the shop console's (factor tiles against the previous period,
funnel, channels, cohort heat map), the sharer centre's (clicks → orders →
commission per link and channel) and the operator's (platform factors, Gini
with its Lorenz curve, income deciles, retail reach).

Every chart is a `charts.Table`: the page embeds it as a JSON data block that
the static insight.js draws with ECharts (no inline script), and
`?format=csv&chart=<name>` downloads exactly its numbers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from kinshop.core.errors import InvalidInput
from kinshop.core.money import format_money
from kinshop.insight import charts, queries, rules
from kinshop.shops.models import Shop
from kinshop.web.errors import error_text

LABELS = {
    "gmv": _("GMV"),
    "visitors": _("Visitors"),
    "conversion": _("Conversion"),
    "orders_per_buyer": _("Orders per buyer"),
    "aov": _("Average order value"),
    "views": _("Views"),
    "carts": _("Cart adds"),
    "orders": _("Orders"),
    "paid": _("Paid"),
    "clicks": _("Clicks"),
    "commission": _("Commission"),
    "link": _("link"),
    "qr": _("QR code / poster"),
    "live": _("live room"),
    "offline": _("offline"),
    "share": _("Share"),
    "income": _("Income"),
    "sharers": _("Sharers"),
    "months_since": _("Months since first purchase"),
    "month": _("First purchase"),
    "equality": _("Equal income"),
    "lorenz": _("Lorenz curve"),
}


def _period(request) -> tuple[rules.Period | None, str]:
    try:
        return (
            rules.period(request.GET.get("from"), request.GET.get("to"), today=queries.today()),
            "",
        )
    except InvalidInput as error:
        return None, error_text(error)


def _csv_or_none(request, tables: dict[str, charts.Table], filename: str) -> HttpResponse | None:
    if request.GET.get("format") != "csv":
        return None
    table = tables.get(request.GET.get("chart", ""))
    if table is None:
        raise Http404
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{table.name}.csv"'
    return response


def _tiles(data: dict) -> list[dict]:
    """The five factor tiles: value as shown, the previous period's, the change."""
    currency = data["currency"]
    shown = {
        "gmv": lambda value: format_money(value, currency),
        "visitors": lambda value: f"{value:,}",
        "conversion": lambda value: f"{value * 100:.1f}%",
        "orders_per_buyer": lambda value: f"{value:.2f}",
        "aov": lambda value: format_money(round(value), currency),
    }
    tiles = []
    for name, show in shown.items():
        change = data["change"][name]
        tiles.append(
            {
                "name": name,
                "label": LABELS[name],
                "value": show(data[name]),
                "previous": show(data["previous"][name]),
                "change": None if change is None else f"{change * 100:+.1f}%",
                "direction": "flat" if not change else ("up" if change > 0 else "down"),
            }
        )
    return tiles


def _chart_blocks(tables: dict[str, charts.Table]) -> dict[str, dict]:
    labels = {key: str(value) for key, value in LABELS.items()}
    return {name: {**table.as_json(), "labels": labels} for name, table in tables.items()}


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, context, status=status)


@login_required
def shop_page(request):
    shop = Shop.objects.filter(owner=request.user).first()
    if shop is None:
        return redirect("shop_console:overview")
    period, problem = _period(request)
    if period is None:
        return _render(
            request,
            "web/insight/shop.html",
            {"tab": "insight", "shop": shop, "problem": problem},
            status=422,
        )
    data = queries.shop_insight(shop, period)
    cohort_data = queries.cohorts(shop, queries.cohort_period(None, period.end.isoformat()))
    tables = charts.shop_tables(data, cohort_data)
    csv = _csv_or_none(request, tables, f"insight-{shop.handle}")
    if csv is not None:
        return csv
    return _render(
        request,
        "web/insight/shop.html",
        {
            "tab": "insight",
            "shop": shop,
            "data": data,
            "tiles": _tiles(data),
            "cohorts": cohort_data,
            "charts": _chart_blocks(tables),
            "period": period,
        },
    )


@login_required
def sharer_page(request):
    period, problem = _period(request)
    if period is None:
        return _render(
            request, "web/insight/sharer.html", {"tab": "insight", "problem": problem}, status=422
        )
    data = queries.sharer_insight(request.user, period)
    tables = charts.sharer_tables(data)
    csv = _csv_or_none(request, tables, "my-insight")
    if csv is not None:
        return csv
    return _render(
        request,
        "web/insight/sharer.html",
        {"tab": "insight", "data": data, "charts": _chart_blocks(tables), "period": period},
    )


@login_required
def platform_page(request):
    if not request.user.is_staff:
        raise PermissionDenied
    period, problem = _period(request)
    if period is None:
        return _render(request, "web/insight/platform.html", {"problem": problem}, status=422)
    data = queries.platform_insight(period)
    tables = charts.platform_tables(data)
    csv = _csv_or_none(request, tables, "insight-platform")
    if csv is not None:
        return csv
    return _render(
        request,
        "web/insight/platform.html",
        {
            "data": data,
            "tiles": _tiles(data),
            "charts": _chart_blocks(tables),
            "period": period,
        },
    )
