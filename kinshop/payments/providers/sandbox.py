"""The sandbox provider, for the demo and tests: a pay page where the payer
clicks "pay", and notifications signed with HMAC-SHA256 that go through the same
webhook path as a real provider's. Off unless KINSHOP_PAYMENT_SANDBOX is set."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings

from kinshop.payments.providers.base import (
    PAYMENT_SUCCEEDED,
    InvalidSignature,
    Notification,
    SentRefund,
    StartedPayment,
)

SIGNATURE_HEADER = "Kinshop-Signature"
TOLERANCE_SECONDS = 300


def _secret() -> bytes:
    return settings.KINSHOP_SANDBOX_WEBHOOK_SECRET.encode()


def sign(body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(_secret(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def payment_notification(*, reference: str, amount: int, payer_id: str = "") -> bytes:
    """The body the sandbox 'bank' sends when the payer pays (from the payer's
    bank account `payer_id`, when one is given)."""
    return json.dumps(
        {
            "id": "evt_" + secrets.token_hex(12),
            "type": "payment.succeeded",
            "payment": reference,
            "amount": amount,
            "transaction_id": "sbx_" + secrets.token_hex(8),
            "payer": payer_id,
        }
    ).encode()


class SandboxProvider:
    name = "sandbox"
    # Where to pay is computed here, with no call out: asked inside the
    # transaction that records the payment, it costs no statement of its own.
    answers_locally = True

    def is_enabled(self) -> bool:
        return bool(settings.KINSHOP_PAYMENT_SANDBOX)

    def start_payment(self, *, reference, amount, currency, description) -> StartedPayment:
        return StartedPayment(pay_url=f"/pay/sandbox/{reference}/")

    def parse_notification(self, *, body: bytes, headers: dict[str, str]) -> list[Notification]:
        header = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError:
            raise InvalidSignature("missing timestamp") from None
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise InvalidSignature("stale notification")
        expected = sign(body, timestamp=timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise InvalidSignature("bad signature")
        try:
            data = json.loads(body)
            if data["type"] != "payment.succeeded":
                return []
            return [
                Notification(
                    event_id=str(data["id"]),
                    kind=PAYMENT_SUCCEEDED,
                    payment_reference=str(data["payment"]),
                    amount=int(data["amount"]),
                    transaction_id=str(data.get("transaction_id", "")),
                    payer_id=str(data.get("payer") or ""),
                    raw=data,
                )
            ]
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidSignature("malformed notification") from error

    def send_refund(
        self, *, payment_reference, refund_reference, amount, total, reason
    ) -> SentRefund:
        return SentRefund(provider_refund_id="sbx_rf_" + secrets.token_hex(8), succeeded=True)
