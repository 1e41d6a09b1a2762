"""What every app's models share. Abstract only: core has no tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class StatusChange(models.Model):
    """One step of an object's lifecycle: who moved it, when, why, from and to.
    Written only by `core.statemachine`; a concrete subclass per model adds the
    foreign key to its subject with `related_name="history"`. `from_status` is
    "" on the row recorded when the object is created."""

    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} at {self.at:%Y-%m-%d %H:%M}"
