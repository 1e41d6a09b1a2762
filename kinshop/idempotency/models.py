from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a request carrying an `Idempotency-Key`. It is written
    in the same transaction as what the request created, so a repeat either sees
    the whole result or waits for it; never half of it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    operation = models.CharField(max_length=60)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "operation", "key"], name="idempotency_key_once"
            )
        ]
