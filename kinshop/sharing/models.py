from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ShareLink(models.Model):
    """A share (分享) by one sharer of one target: a shop, a product in a shop, or
    a live room of a shop (the room's id is kept as a fact: the live app, above
    sharing, owns rooms and reads it).
    The code is short and unguessable; whoever opens it is attributed to the
    sharer under the operator's attribution policy — one level, never more."""

    class Target(models.TextChoices):
        SHOP = "shop", _("shop")
        PRODUCT = "product", _("product")
        LIVE = "live", _("live room")

    code = models.CharField(max_length=16, unique=True)
    sharer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="share_links")
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    target = models.CharField(max_length=12, choices=Target.choices)
    # The live room shared (live.LiveRoom's id), for target "live"; no foreign
    # key, as sharing sits below the live app.
    live_room_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sharer", "shop", "product"], name="one_link_per_sharer_target"
            ),
            models.UniqueConstraint(
                fields=["sharer", "shop"],
                condition=models.Q(product__isnull=True, live_room_id__isnull=True),
                name="one_shop_link_per_sharer",
            ),
            models.UniqueConstraint(
                fields=["sharer", "live_room_id"],
                condition=models.Q(live_room_id__isnull=False),
                name="one_live_link_per_sharer_room",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Click(models.Model):
    """One opening of a share link, recorded server-side: the evidence behind
    every commission."""

    class Channel(models.TextChoices):
        LINK = "link", _("link")
        QR = "qr", _("QR code / poster")
        LIVE = "live", _("live room")
        OFFLINE = "offline", _("offline")

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="clicks")
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    sharer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="share_clicks",
    )
    visitor_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.LINK)
    at = models.DateTimeField(db_index=True)
    # rules.click_window(at): a visitor's clicks on one link count once per
    # window, however many times a flood of them opens it. 0 on clicks recorded
    # before windows existed, which the constraint leaves alone.
    window_index = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["viewer", "shop", "at"], name="click_viewer_shop_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["link", "visitor_key", "window_index"],
                condition=~models.Q(visitor_key="") & models.Q(window_index__gt=0),
                name="one_click_per_visitor_link_window",
            )
        ]


class Binding(models.Model):
    """Under the `binding` policy (锁客): the first sharer to bring a buyer to a
    shop stays that buyer's sharer for the shop until `expires_at`."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    sharer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    click = models.ForeignKey(Click, on_delete=models.PROTECT, related_name="+")
    bound_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["buyer", "shop"], name="one_binding_per_buyer_shop")
        ]
