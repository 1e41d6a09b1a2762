"""Offline payment (bank transfer, cash on delivery): no notification; the
supplier's staff or the operator marks the money received, and refunds are
handed back the same way."""

from __future__ import annotations

import secrets

from kinshop.payments.providers.base import (
    InvalidSignature,
    Notification,
    SentRefund,
    StartedPayment,
)


class OfflineProvider:
    name = "offline"

    def is_enabled(self) -> bool:
        return True

    def start_payment(self, *, reference, amount, currency, description) -> StartedPayment:
        return StartedPayment(pay_url="")

    def parse_notification(self, *, body: bytes, headers: dict[str, str]) -> list[Notification]:
        raise InvalidSignature("offline payments have no notifications")

    def send_refund(
        self, *, payment_reference, refund_reference, amount, total, reason
    ) -> SentRefund:
        return SentRefund(provider_refund_id="offline_" + secrets.token_hex(6), succeeded=True)
