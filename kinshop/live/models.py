from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinshop.core.models import StatusChange


class LiveRoom(models.Model):
    """A shop's live room (裂变式直播): the shopkeeper streams (an external
    stream URL may be embedded), pins products and chats; every viewer may
    share the room with their own link and earns on the viewers they bring."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        LIVE = "live", _("live")
        ENDED = "ended", _("ended")

    TRANSITIONS = {
        Status.SCHEDULED: {Status.LIVE},
        Status.LIVE: {Status.ENDED},
        Status.ENDED: set(),
    }
    STATUS_TIMESTAMPS = {Status.LIVE: "started_at", Status.ENDED: "ended_at"}

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="live_rooms")
    title = models.CharField(_("title"), max_length=100)
    stream_url = models.URLField(_("stream URL"), max_length=500, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_at = models.DateTimeField(_("scheduled at"))
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The id of the room's last event. Taken with a conditional UPDATE that
    # holds the room's row until commit, so events commit in id order: a
    # viewer who has event n has every event before it.
    last_event_id = models.PositiveBigIntegerField(default=0, editable=False)
    peak_viewers = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        indexes = [models.Index(fields=["shop", "status"], name="live_room_shop_status")]

    def __str__(self) -> str:
        return self.title


class LiveRoomStatusChange(StatusChange):
    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="history")


class Pin(models.Model):
    """A product shown under the stream as a card with its live price and stock."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="pins")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    pinned_at = models.DateTimeField()

    class Meta:
        ordering = ["-pinned_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "product"], name="pin_once_per_room")
        ]


class Participant(models.Model):
    """A signed-in viewer's standing in one room: muted or not, and when they
    last spoke (one message a second, taken with a conditional UPDATE)."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_muted = models.BooleanField(default=False)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="one_participant_per_room_user")
        ]


class Message(models.Model):
    """One chat message, kept as written: pages escape it, scripts set it as text."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["room", "id"], name="live_message_room")]


class Event(models.Model):
    """One event of a room as viewers receive it, kept so that a viewer who
    reconnects with `Last-Event-ID` gets exactly what it missed. `number` is
    the id viewers see, per room, without gaps."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="events")
    number = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=10)
    data = models.JSONField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["room", "number"]
        constraints = [
            models.UniqueConstraint(fields=["room", "number"], name="one_event_per_room_number")
        ]


class Visit(models.Model):
    """A distinct viewer of a room (an account, else a device): the report's
    unique viewers."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="visits")
    visitor_key = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "visitor_key"], name="one_visit_per_visitor")
        ]


class RoomOrder(models.Model):
    """An order placed in a room: what the room's report counts. Its viewers
    see it once it is paid: `announced_at` is set, by a conditional UPDATE,
    by whichever step sends the room's `order` event (services.
    announce_paid_orders), so the event goes out once."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="orders")
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["room", "at"],
                condition=models.Q(announced_at__isnull=True),
                name="live_roomorder_unannounced",
            )
        ]
