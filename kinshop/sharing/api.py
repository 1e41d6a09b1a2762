from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from kinshop.core.api import error_responses
from kinshop.sharing import poster, services
from kinshop.sharing.models import ShareLink

if TYPE_CHECKING:
    pass

router = Router(tags=["sharing"])


class ShareLinkIn(Schema):
    shop: str = Field(..., min_length=1, max_length=30, description="the shop's handle")
    product_id: int | None = None
    live_room_id: int | None = Field(None, ge=1, le=2**63 - 1)


class ShareLinkOut(Schema):
    code: str
    url: str
    poster_url: str


class ShareLinkInfoOut(ShareLinkOut):
    shop: str
    shop_name: str
    product_id: int | None
    live_room_id: int | None
    target: str
    sharer: str


class ClickIn(Schema):
    channel: str = Field("link", max_length=10, description="link, qr, live or offline")


class ClickOut(Schema):
    id: int
    channel: str
    at: dt.datetime


def poster_path(code: str) -> str:
    return f"/api/v1/share-links/{code}/poster.png"


def link_out(link: ShareLink) -> dict:
    return {
        "code": link.code,
        "url": poster.share_url(link.code),
        "poster_url": poster_path(link.code),
    }


# create_share_link (POST /share-links) is served by the live app's router: a
# live room's link is made there, where the room is checked (sharing, below
# live, never imports it).


@router.get(
    "/share-links/{code}",
    operation_id="get_share_link",
    auth=None,
    response={200: ShareLinkInfoOut, **error_responses(404)},
)
def get_share_link(request, code: str):
    link = services.link_by_code(code)
    return {
        **link_out(link),
        "shop": link.shop.handle,
        "shop_name": link.shop.name,
        "product_id": link.product_id,
        "live_room_id": link.live_room_id,
        "target": link.target,
        "sharer": link.sharer.public_name,
    }


@router.get(
    "/share-links/{code}/poster.png",
    operation_id="get_share_poster",
    auth=None,
    response={200: None, **error_responses(404)},
    openapi_extra={"responses": {200: {"content": {"image/png": {}}}}},
)
def get_share_poster(request, code: str):
    return poster_response(services.link_by_code(code))


def poster_response(link: ShareLink) -> HttpResponse:
    response = HttpResponse(poster.render_png(link), content_type="image/png")
    # Prices and pictures change, but not by the minute; an hour keeps shares cheap.
    response["Cache-Control"] = "public, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="kinshop-{link.code}.png"'
    return response


@router.post(
    "/share-links/{code}/clicks",
    operation_id="record_click",
    response={201: ClickOut, **error_responses(400, 401, 404, 422)},
)
def record_click(request, code: str, payload: ClickIn | None = None):
    channel = payload.channel if payload is not None else "link"
    with transaction.atomic():
        click = services.record_click(code=code, viewer=request.auth, channel=channel)
    return Status(201, {"id": click.id, "channel": click.channel, "at": click.at})
