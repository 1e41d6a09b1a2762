"""Traffic events for insight, recorded by the page views themselves (never
inside a cached fragment): one insert per product view or cart add, by the
signed-in user or else the device's first-party id; bots record nothing."""

from __future__ import annotations

from kinshop.insight import services as insight


def record(request, kind: str, *, shop_id: int, product_id: int | None = None) -> None:
    user = getattr(request, "user", None)
    insight.record_event(
        kind=kind,
        shop_id=shop_id,
        product_id=product_id,
        user_id=user.pk if user is not None and user.is_authenticated else None,
        device_id=getattr(request, "device_id", None),
        user_agent=request.headers.get("User-Agent", ""),
    )
