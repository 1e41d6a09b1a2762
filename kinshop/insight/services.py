"""Insight writes only its own events (the rollups are the job's). Recording is
one INSERT on the request path; a bot or a request without any visitor id
records nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kinshop.core import clock
from kinshop.core.errors import InvalidInput
from kinshop.insight import rules
from kinshop.insight.models import Event


def record_event(
    *,
    kind: str,
    shop_id: int,
    product_id: int | None = None,
    user_id: int | None = None,
    device_id: str | None = None,
    user_agent: str | None = None,
    at: dt.datetime | None = None,
) -> Event | None:
    """Record one product view or cart add by a person (a signed-in user, or a
    device by its first-party id). Bots and anonymous scripts are not visitors:
    nothing is recorded for them."""
    if kind not in Event.Kind.values:
        raise InvalidInput(
            f"An event is one of {', '.join(Event.Kind.values)}.", code="invalid_event", kind=kind
        )
    visitor = rules.visitor_id(user_id=user_id, device_id=device_id)
    if visitor is None or rules.is_bot(user_agent):
        return None
    at = at or clock.now()
    return Event.objects.create(
        kind=kind,
        shop_id=shop_id,
        product_id=product_id,
        visitor=visitor,
        day=timezone.localdate(at),
        at=at,
    )
