from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from kinshop.core.api import Page, PageParams, error_responses, paginate
from kinshop.core.errors import Forbidden
from kinshop.idempotency.api import idempotent
from kinshop.ledger import queries, services
from kinshop.ledger.models import Posting, Withdrawal

router = Router(tags=["wallet and ledger"])

MAX_FEN = 10**12
WALLET_PATTERN = "^(sharer|shop|supplier)$"


class WalletOut(Schema):
    wallet: str
    pending: int
    available: int
    debt: int
    held: int
    withdrawal_requested: int
    paid_out: int
    currency: str


class PostingOut(Schema):
    id: int
    amount: int
    account_kind: str
    entry_id: int
    entry_kind: str
    memo: str
    order_id: int | None
    refund_id: int | None
    withdrawal_id: int | None
    line_id: int | None
    currency: str
    created_at: dt.datetime


class WithdrawalIn(Schema):
    amount: int = Field(..., ge=1, le=MAX_FEN)
    wallet: str = Field("sharer", pattern=WALLET_PATTERN)


class WithdrawalOut(Schema):
    id: int
    status: str
    amount: int
    debt_repaid: int
    currency: str
    wallet: str
    user_id: int
    created_at: dt.datetime
    decided_at: dt.datetime | None
    paid_out_at: dt.datetime | None


class DecisionIn(Schema):
    reason: str = Field("", max_length=200)


class HealthOut(Schema):
    balanced: bool
    entries: int
    accounts: int
    postings: int
    mismatches: list[dict]


class ComplianceOut(Schema):
    commission_levels: int
    orders: int
    self_purchase_orders: int
    self_purchase_share: float
    own_link_orders: int
    linked_identity_orders: int
    shopkeeper_own_orders: int
    commissioned_lines: int
    self_commissioned_lines: int
    sharers_earning: int
    units_left_suppliers: int
    units_reached_consumers: int
    wholesale_units_held: int
    retail_reach_rate: float


def posting_out(posting: Posting) -> dict:
    entry = posting.entry
    return {
        "id": posting.id,
        "amount": -posting.amount,  # as the wallet sees it: money owed to the party is positive
        "account_kind": posting.account.kind,
        "entry_id": entry.id,
        "entry_kind": entry.kind,
        "memo": entry.memo,
        "order_id": entry.order_id,
        "refund_id": entry.refund_id,
        "withdrawal_id": entry.withdrawal_id,
        "line_id": posting.line_id,
        "currency": posting.account.currency,
        "created_at": entry.created_at,
    }


def withdrawal_out(withdrawal: Withdrawal) -> dict:
    return {
        "id": withdrawal.id,
        "status": withdrawal.status,
        "amount": withdrawal.amount,
        "debt_repaid": withdrawal.debt_repaid,
        "currency": withdrawal.currency,
        "wallet": withdrawal.wallet,
        "user_id": withdrawal.user_id,
        "created_at": withdrawal.created_at,
        "decided_at": withdrawal.decided_at,
        "paid_out_at": withdrawal.paid_out_at,
    }


def _require_operator(user, what: str) -> None:
    if not user.is_staff:
        raise Forbidden(f"Only an operator can {what}.", code="not_operator")


@router.get(
    "/wallet",
    operation_id="get_wallet",
    response={200: WalletOut, **error_responses(401, 403, 422)},
)
def get_wallet(request, as_: str = Query("sharer", alias="as", pattern=WALLET_PATTERN)):
    return queries.wallet(request.auth, as_)


@router.get(
    "/wallet/entries",
    operation_id="list_wallet_entries",
    response={200: Page[PostingOut], **error_responses(401, 403, 422)},
)
def list_wallet_entries(
    request,
    page: Query[PageParams],
    as_: str = Query("sharer", alias="as", pattern=WALLET_PATTERN),
):
    return paginate(queries.wallet_postings(request.auth, as_), page, posting_out)


@router.post(
    "/withdrawals",
    operation_id="request_withdrawal",
    response={201: WithdrawalOut, **error_responses(400, 401, 403, 409, 422)},
)
def request_withdrawal(request, payload: WithdrawalIn):
    def withdraw() -> dict:
        withdrawal = services.request_withdrawal(
            user=request.auth, amount=payload.amount, wallet=payload.wallet
        )
        return withdrawal_out(withdrawal)

    return idempotent(
        request,
        operation="request_withdrawal",
        payload=payload,
        schema=WithdrawalOut,
        status=201,
        action=withdraw,
    )


@router.get(
    "/withdrawals",
    operation_id="list_withdrawals",
    response={200: Page[WithdrawalOut], **error_responses(401, 422)},
)
def list_withdrawals(
    request,
    page: Query[PageParams],
    status: str = Query("", pattern="^(|requested|approved|paid_out|rejected)$"),
):
    withdrawals = queries.withdrawals_for(request.auth)
    if status:
        withdrawals = withdrawals.filter(status=status)
    return paginate(withdrawals, page, withdrawal_out)


@router.post(
    "/withdrawals/{withdrawal_id}/approve",
    operation_id="approve_withdrawal",
    response={200: WithdrawalOut, **error_responses(401, 403, 404, 409, 422)},
)
def approve_withdrawal(request, withdrawal_id: int, payload: DecisionIn | None = None):
    _require_operator(request.auth, "approve a withdrawal")
    with transaction.atomic():
        withdrawal = get_object_or_404(Withdrawal, pk=withdrawal_id)
        withdrawal = services.approve_withdrawal(
            withdrawal=withdrawal, actor=request.auth, reason=payload.reason if payload else ""
        )
    return withdrawal_out(withdrawal)


@router.post(
    "/withdrawals/{withdrawal_id}/reject",
    operation_id="reject_withdrawal",
    response={200: WithdrawalOut, **error_responses(401, 403, 404, 409, 422)},
)
def reject_withdrawal(request, withdrawal_id: int, payload: DecisionIn | None = None):
    _require_operator(request.auth, "reject a withdrawal")
    with transaction.atomic():
        withdrawal = get_object_or_404(Withdrawal, pk=withdrawal_id)
        withdrawal = services.reject_withdrawal(
            withdrawal=withdrawal, actor=request.auth, reason=payload.reason if payload else ""
        )
    return withdrawal_out(withdrawal)


@router.get(
    "/ledger/health",
    operation_id="ledger_health",
    response={200: HealthOut, **error_responses(401, 403)},
)
def ledger_health(request):
    _require_operator(request.auth, "see the ledger's health")
    return queries.health()


@router.get(
    "/compliance/report",
    operation_id="compliance_report",
    response={200: ComplianceOut, **error_responses(401, 403)},
)
def compliance_report(request):
    _require_operator(request.auth, "see the compliance report")
    return queries.compliance_report()
