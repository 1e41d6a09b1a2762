"""What a payment provider is to Kinshop.

A provider starts a payment (returning where the payer goes to pay), turns a
signed notification into `Notification`s (refusing any whose signature does not
verify), and sends refunds. Capture and refund bookkeeping is the same for every
provider and lives in `payments.services`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class InvalidSignature(Exception):
    """A notification whose signature, timestamp or encryption does not check out."""


@dataclass(frozen=True)
class Notification:
    event_id: str
    kind: str  # "payment_succeeded" | "refund_succeeded" | "refund_failed"
    payment_reference: str
    amount: int
    transaction_id: str = ""
    refund_reference: str = ""
    provider_refund_id: str = ""
    # The payer's account at the provider (WeChat Pay's openid), when reported:
    # two accounts paying from one are one person (linked identities).
    payer_id: str = ""
    raw: dict | None = None


PAYMENT_SUCCEEDED = "payment_succeeded"
REFUND_SUCCEEDED = "refund_succeeded"
REFUND_FAILED = "refund_failed"


@dataclass(frozen=True)
class StartedPayment:
    pay_url: str
    provider_transaction_id: str = ""


@dataclass(frozen=True)
class SentRefund:
    provider_refund_id: str
    succeeded: bool  # True when the provider refunded at once; else a notification follows


class Provider(Protocol):
    name: str

    def is_enabled(self) -> bool: ...

    def start_payment(
        self, *, reference: str, amount: int, currency: str, description: str
    ) -> StartedPayment: ...

    def parse_notification(self, *, body: bytes, headers: dict[str, str]) -> list[Notification]: ...

    def send_refund(
        self, *, payment_reference: str, refund_reference: str, amount: int, total: int, reason: str
    ) -> SentRefund: ...
