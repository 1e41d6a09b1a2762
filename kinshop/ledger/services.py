"""Use cases that move money: the only writers of the ledger.

Every service runs inside the caller's transaction (it never opens or commits
one) and writes balanced journal entries only; balances are sums of postings.
Postings are signed: debit positive, credit negative (see models).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery, Sum

from kinshop.catalog import rules as catalog_rules
from kinshop.core import clock, rows
from kinshop.core.errors import Conflict, Forbidden, InvalidInput
from kinshop.core.statemachine import record_creation, transition
from kinshop.ledger import queries, rules
from kinshop.ledger.models import (
    Account,
    CommissionHold,
    JournalEntry,
    LineSettlement,
    Posting,
    Withdrawal,
)
from kinshop.ledger.queries import PLATFORM, Owner

logger = logging.getLogger(__name__)

Kind = Account.Kind
# Orders per settlement batch (one transaction): large enough that a batch's
# fixed costs (its statements, its commit) are small beside its rows, small
# enough that a refund of one of its orders waits well under a second.
SETTLEMENT_BATCH_ORDERS = 2000


@dataclass(frozen=True)
class _Ref:
    """An account not yet looked up: whose, which kind, which currency."""

    owner: Owner
    kind: str
    currency: str


def _accounts(refs: Iterable[_Ref]) -> dict[_Ref, Account]:
    """Find or create these accounts in a constant number of queries (a select,
    and for missing ones an insert that tolerates a concurrent insert, then a
    second select)."""
    wanted = set(refs)
    if not wanted:
        return {}

    def fetch(refs: set[_Ref]) -> dict[_Ref, Account]:
        rows = Account.objects.filter(
            owner_key__in={ref.owner.key for ref in refs},
            kind__in={ref.kind for ref in refs},
            currency__in={ref.currency for ref in refs},
        )
        by_key = {(row.owner_key, row.kind, row.currency): row for row in rows}
        found = {}
        for ref in refs:
            row = by_key.get((ref.owner.key, ref.kind, ref.currency))
            if row is not None:
                found[ref] = row
        return found

    found = fetch(wanted)
    missing = wanted - found.keys()
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    owner_kind=ref.owner.kind,
                    owner_key=ref.owner.key,
                    kind=ref.kind,
                    currency=ref.currency,
                    **ref.owner.party_fields(),
                )
                for ref in missing
            ],
            ignore_conflicts=True,
        )
        found.update(fetch(missing))
    return found


class _EntryBuilder:
    """Collects postings for one entry; refuses to write one that does not balance."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.postings: list[tuple[_Ref, int, int | None]] = []

    def add(self, owner: Owner, kind: str, amount: int, line_id: int | None = None) -> None:
        if amount:
            self.postings.append((_Ref(owner, kind, self.currency), amount, line_id))

    def total(self) -> int:
        return sum(amount for _, amount, _ in self.postings)


def _check_balanced(entry: JournalEntry, builder: _EntryBuilder) -> None:
    if builder.total() != 0:
        raise AssertionError(f"unbalanced {entry.kind} entry: {builder.postings}")


def _postings(entry: JournalEntry, builder: _EntryBuilder, accounts) -> list[Posting]:
    return [
        Posting(entry=entry, account=accounts[ref], amount=amount, line_id=line_id)
        for ref, amount, line_id in builder.postings
    ]


def _write_entries(batch: list[tuple[JournalEntry, _EntryBuilder]]) -> list[JournalEntry]:
    """Insert entries and their postings in bulk, after checking each balances."""
    for entry, builder in batch:
        _check_balanced(entry, builder)
    accounts = _accounts(ref for _, builder in batch for ref, _, _ in builder.postings)
    entries = JournalEntry.objects.bulk_create([entry for entry, _ in batch])
    Posting.objects.bulk_create(
        [
            posting
            for entry, (_, builder) in zip(entries, batch, strict=True)
            for posting in _postings(entry, builder, accounts)
        ]
    )
    return entries


def _write_entry(entry: JournalEntry, builder: _EntryBuilder) -> JournalEntry:
    return _write_entries([(entry, builder)])[0]


def _write_entry_finding_accounts(entry: JournalEntry, builder: _EntryBuilder) -> JournalEntry:
    """`_write_entry` in two statements when every account exists: the entry,
    then its postings inserted with their accounts found in the same statement
    (`INSERT ... SELECT` joining the accounts), all of them or, when one
    account is missing, none. Then, and only then, `_accounts` finds or
    creates them and the postings are inserted as `_write_entries` does."""
    _check_balanced(entry, builder)
    entry.save(force_insert=True)
    if not builder.postings:
        return entry
    rows = ", ".join(
        ["(%s, %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s)"] * len(builder.postings)
    )
    params: list = []
    for position, (ref, amount, line_id) in enumerate(builder.postings):
        params += [ref.owner.key, ref.kind, amount, line_id, position]
    posting, account = Posting._meta.db_table, Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH wanted (owner_key, kind, amount, line_id, position) AS (VALUES {rows}), "
            "kinds AS (SELECT DISTINCT owner_key, kind FROM wanted) "
            f"INSERT INTO {posting} (entry_id, account_id, amount, line_id) "
            "SELECT %s, account.id, wanted.amount, wanted.line_id "
            f"FROM wanted INNER JOIN {account} account ON account.owner_key = wanted.owner_key "
            "AND account.kind = wanted.kind AND account.currency = %s "
            # all or nothing: (kind, owner, currency) is unique, so every
            # account exists when as many are found as are wanted
            f"WHERE (SELECT COUNT(*) FROM kinds INNER JOIN {account} found "
            "ON found.owner_key = kinds.owner_key AND found.kind = kinds.kind "
            "AND found.currency = %s) = (SELECT COUNT(*) FROM kinds) "
            # counted from RETURNING: SQLite's rowcount is -1 for a statement
            # that starts with WITH
            f"ORDER BY wanted.position RETURNING {posting}.id",
            [*params, entry.pk, builder.currency, builder.currency],
        )
        inserted = len(cursor.fetchall())
    if inserted == len(builder.postings):
        return entry
    if inserted:
        raise AssertionError(f"{inserted} of {len(builder.postings)} postings of {entry}")
    accounts = _accounts(ref for ref, _, _ in builder.postings)
    Posting.objects.bulk_create(_postings(entry, builder, accounts))
    return entry


def line_split(line) -> catalog_rules.Split:
    """The split of a paid line with the rates frozen on it; no beneficiary, no
    commission (the margin keeps it). A wholesale line has neither commission nor
    margin: the supplier is paid what the shop paid less the platform fee."""
    if line.is_wholesale:
        return catalog_rules.split_wholesale_line(line.line_total, line.platform_fee_bp)
    commission_bp = line.commission_rate_bp if line.commission_beneficiary_id else 0
    return catalog_rules.split_line(
        line.line_total, line.unit_supply_price * line.quantity, commission_bp, line.platform_fee_bp
    )


class _PartyOwners(TypedDict):
    supplier: Owner
    fee: Owner
    commission: Owner | None
    margin: Owner


def _party_owners(line) -> _PartyOwners:
    if line.is_wholesale:
        # No margin on a wholesale line; the fen a partial refund's rounding
        # leaves over (the "margin" of the reversal) is the supplier's.
        supplier = queries.supplier_owner(line.supplier_id)
        return {"supplier": supplier, "fee": PLATFORM, "commission": None, "margin": supplier}
    return {
        "supplier": queries.supplier_owner(line.supplier_id),
        "fee": PLATFORM,
        "commission": (
            queries.sharer_owner(line.commission_beneficiary_id)
            if line.commission_beneficiary_id
            else None
        ),
        "margin": queries.shop_owner(line.shop_id),
    }


# -- payments --


def record_capture(*, order, is_first: bool = False) -> JournalEntry:
    """Payment captured: clearing is debited with what was paid; each line's
    supplier, sharer and shop are credited pending, the platform its fee. Once
    per order; a repeat returns the first entry. Constant number of queries.
    `is_first`: the caller knows there is no entry yet (the order has just been
    marked paid under its lock), so it is not looked for; the unique index on
    captures still refuses a second one."""
    if not is_first:
        existing = JournalEntry.objects.filter(kind=JournalEntry.Kind.CAPTURE, order=order).first()
        if existing is not None:
            return existing
    lines = list(order.lines.all())
    paid = sum(line.line_total for line in lines)
    if paid != order.total:
        raise Conflict(
            "The order's total is not the sum of its lines.",
            code="order_total_mismatch",
            total=order.total,
            lines=paid,
        )
    builder = _EntryBuilder(order.currency)
    for line in lines:
        split = line_split(line)
        owners = _party_owners(line)
        builder.add(PLATFORM, Kind.CLEARING, line.line_total, line.pk)
        builder.add(owners["supplier"], Kind.PENDING, -split.supplier, line.pk)
        builder.add(PLATFORM, Kind.PLATFORM_FEE, -split.fee, line.pk)
        if owners["commission"] is not None:
            builder.add(owners["commission"], Kind.PENDING, -split.commission, line.pk)
        builder.add(owners["margin"], Kind.PENDING, -split.margin, line.pk)
    entry = JournalEntry(
        kind=JournalEntry.Kind.CAPTURE,
        order=order,
        memo=f"payment of order #{order.pk}",
        created_at=clock.now(),
    )
    return _write_entry_finding_accounts(entry, builder)


def record_refund(*, refund, allocations: dict[int, int]) -> JournalEntry:
    """A refund succeeded: each line's split is reversed pro rata with its frozen
    rates (cumulatively, so a line's refunds never reverse more than its split and
    a full refund reverses it exactly). Before settlement the parties' pending is
    debited, after it their available (which may go negative: a debt). Clearing
    is credited. Once per refund; what was refunded before is read from the
    ledger itself."""
    from kinshop.orders.models import OrderLine

    existing = JournalEntry.objects.filter(kind=JournalEntry.Kind.REFUND, refund=refund).first()
    if existing is not None:
        return existing
    allocations = {int(line_id): int(amount) for line_id, amount in allocations.items() if amount}
    if any(amount < 0 for amount in allocations.values()):
        raise InvalidInput("A refund allocation must not be negative.", code="negative_amount")
    if sum(allocations.values()) != refund.amount:
        raise InvalidInput(
            "The refund's allocations must add up to its amount.",
            code="allocation_mismatch",
            amount=refund.amount,
            allocated=sum(allocations.values()),
        )
    queries.lock_orders([refund.order_id])
    lines = {
        line.pk: line
        for line in OrderLine.objects.filter(order_id=refund.order_id, pk__in=allocations)
    }
    if lines.keys() != allocations.keys():
        raise InvalidInput(
            "A refund can only cover lines of its own order.", code="line_not_in_order"
        )
    refunded_before = dict.fromkeys(lines, 0)
    for row in (
        Posting.objects.filter(
            line_id__in=lines, account__kind=Kind.CLEARING, entry__kind=JournalEntry.Kind.REFUND
        )
        .values("line_id")
        .annotate(total=Sum("amount"))
    ):
        refunded_before[row["line_id"]] = -row["total"]
    settled = set(
        LineSettlement.objects.filter(line_id__in=lines).values_list("line_id", flat=True)
    )
    holds = dict(CommissionHold.objects.filter(line_id__in=lines).values_list("line_id", "status"))
    builder = _EntryBuilder(refund.order.currency)
    for line_id, amount in sorted(allocations.items()):
        line = lines[line_id]
        reversal = rules.reverse_split(
            line_split(line), line.line_total, refunded_before[line_id], amount
        )
        party_kind = Kind.AVAILABLE if line_id in settled else Kind.PENDING
        owners = _party_owners(line)
        builder.add(PLATFORM, Kind.CLEARING, -amount, line_id)
        builder.add(owners["supplier"], party_kind, reversal.supplier, line_id)
        builder.add(PLATFORM, Kind.PLATFORM_FEE, reversal.fee, line_id)
        if owners["commission"] is not None:
            # The commission is reversed from where it now is: still held under
            # an open flag, or in the shop's margin when the hold was voided.
            hold = holds.get(line_id)
            if hold == CommissionHold.Status.HELD:
                builder.add(owners["commission"], Kind.HELD, reversal.commission, line_id)
            elif hold == CommissionHold.Status.VOIDED:
                builder.add(owners["margin"], party_kind, reversal.commission, line_id)
            else:
                builder.add(owners["commission"], party_kind, reversal.commission, line_id)
        builder.add(owners["margin"], party_kind, reversal.margin, line_id)
    entry = JournalEntry(
        kind=JournalEntry.Kind.REFUND,
        order_id=refund.order_id,
        refund=refund,
        memo=f"refund #{refund.pk} of order #{refund.order_id}",
        created_at=clock.now(),
    )
    return _write_entry(entry, builder)


def record_late_payment(*, payment) -> JournalEntry:
    """A payment captured after its order was closed: the money is in clearing
    and owed back to the payer. Once per payment."""
    existing = JournalEntry.objects.filter(
        kind=JournalEntry.Kind.LATE_PAYMENT, payment=payment
    ).first()
    if existing is not None:
        return existing
    builder = _EntryBuilder(payment.currency)
    builder.add(PLATFORM, Kind.CLEARING, payment.amount)
    builder.add(PLATFORM, Kind.LATE_PAYMENT_REFUND, -payment.amount)
    entry = JournalEntry(
        kind=JournalEntry.Kind.LATE_PAYMENT,
        payment=payment,
        order_id=payment.order_id,
        memo=f"late payment {payment.reference} of closed order #{payment.order_id}",
        created_at=clock.now(),
    )
    return _write_entry(entry, builder)


def record_late_payment_refund(*, payment) -> JournalEntry:
    """The late payment went back to the payer: the debt to them and the money
    in clearing both go, so the pair nets to zero. Once per payment, and only
    after `record_late_payment`."""
    existing = JournalEntry.objects.filter(
        kind=JournalEntry.Kind.LATE_PAYMENT_REFUND, payment=payment
    ).first()
    if existing is not None:
        return existing
    if not JournalEntry.objects.filter(
        kind=JournalEntry.Kind.LATE_PAYMENT, payment=payment
    ).exists():
        raise Conflict(
            "This payment was never recorded as a late payment.", code="late_payment_not_recorded"
        )
    builder = _EntryBuilder(payment.currency)
    builder.add(PLATFORM, Kind.LATE_PAYMENT_REFUND, payment.amount)
    builder.add(PLATFORM, Kind.CLEARING, -payment.amount)
    entry = JournalEntry(
        kind=JournalEntry.Kind.LATE_PAYMENT_REFUND,
        payment=payment,
        order_id=payment.order_id,
        memo=f"late payment {payment.reference} refunded",
        created_at=clock.now(),
    )
    return _write_entry(entry, builder)


# -- pre-sale deposits --


def _payment_entry(*, kind: str, payment, postings: list[tuple[str, int]], memo: str):
    existing = JournalEntry.objects.filter(kind=kind, payment=payment).first()
    if existing is not None:
        return existing
    builder = _EntryBuilder(payment.currency)
    for account_kind, amount in postings:
        builder.add(PLATFORM, account_kind, amount)
    entry = JournalEntry(
        kind=kind, payment=payment, order_id=payment.order_id, memo=memo, created_at=clock.now()
    )
    return _write_entry(entry, builder)


def record_deposit(*, payment) -> JournalEntry:
    """A pre-sale's deposit was captured: the money is in clearing and the
    platform holds it for the buyer (no split yet: the price is not paid).
    Once per payment."""
    return _payment_entry(
        kind=JournalEntry.Kind.DEPOSIT,
        payment=payment,
        postings=[(Kind.CLEARING, payment.amount), (Kind.DEPOSITS, -payment.amount)],
        memo=f"deposit {payment.reference} of order #{payment.order_id}",
    )


def record_deposit_applied(*, payment) -> JournalEntry:
    """The balance came in: the deposit held leaves `deposits` and clearing,
    so that `record_capture` then splits the whole price once. Once per
    deposit payment, and only after `record_deposit`."""
    _require_deposit(payment)
    return _payment_entry(
        kind=JournalEntry.Kind.DEPOSIT_APPLIED,
        payment=payment,
        postings=[(Kind.DEPOSITS, payment.amount), (Kind.CLEARING, -payment.amount)],
        memo=f"deposit {payment.reference} applied to order #{payment.order_id}",
    )


def record_deposit_refund(*, payment) -> JournalEntry:
    """The deposit went back to the payer: what `record_deposit` wrote is
    reversed exactly. Once per deposit payment."""
    _require_deposit(payment)
    if JournalEntry.objects.filter(
        kind=JournalEntry.Kind.DEPOSIT_APPLIED, payment=payment
    ).exists():
        raise Conflict("This deposit was applied to a payment.", code="deposit_applied")
    return _payment_entry(
        kind=JournalEntry.Kind.DEPOSIT_REFUND,
        payment=payment,
        postings=[(Kind.DEPOSITS, payment.amount), (Kind.CLEARING, -payment.amount)],
        memo=f"deposit {payment.reference} refunded",
    )


def _require_deposit(payment) -> None:
    if not JournalEntry.objects.filter(kind=JournalEntry.Kind.DEPOSIT, payment=payment).exists():
        raise Conflict("This payment was never recorded as a deposit.", code="deposit_not_recorded")


# -- commission holds (fraud review) --


def _line_balance(line_id: int, owner: Owner, kind: str) -> int:
    """What `owner`'s `kind` account holds for one line (credit counted positive)."""
    total = Posting.objects.filter(
        line_id=line_id, account__owner_key=owner.key, account__kind=kind
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or 0)


def hold_commission(*, line, reason: str) -> CommissionHold | None:
    """Hold a line's sharer commission while a fraud flag on it is open: what is
    still pending for the sharer on the line moves to their `held` account, which
    settlement never moves and a withdrawal never reaches. Only an unsettled line
    with a beneficiary can be held (settled money is the sharer's already); a
    line is held once, and a repeat returns the first hold. The order row is
    locked first, as settlement and refunds lock it."""
    if line.is_wholesale or not line.commission_beneficiary_id:
        return None
    queries.lock_orders([line.order_id])
    existing = CommissionHold.objects.filter(line_id=line.pk).first()
    if existing is not None:
        return existing
    if LineSettlement.objects.filter(line_id=line.pk).exists():
        return None
    sharer = queries.sharer_owner(line.commission_beneficiary_id)
    amount = _line_balance(line.pk, sharer, Kind.PENDING)
    now = clock.now()
    hold = CommissionHold.objects.create(
        line_id=line.pk, order_id=line.order_id, reason=reason[:120], created_at=now
    )
    record_creation(hold, reason=reason, at=now)
    if amount > 0:
        builder = _EntryBuilder(line.order.currency)
        builder.add(sharer, Kind.PENDING, amount, line.pk)
        builder.add(sharer, Kind.HELD, -amount, line.pk)
        _write_entry(
            JournalEntry(
                kind=JournalEntry.Kind.HOLD,
                order_id=line.order_id,
                memo=f"commission of line #{line.pk} held: {reason}"[:200],
                created_at=now,
            ),
            builder,
        )
    return hold


def release_commission(*, line, actor=None, reason: str = "") -> CommissionHold:
    """The flag was a false positive: the held commission goes back to the sharer,
    to pending (settled with the line as usual) or, when the line has settled
    meanwhile, to available."""
    return _resolve_hold(line, CommissionHold.Status.RELEASED, actor=actor, reason=reason)


def void_commission(*, line, actor=None, reason: str = "") -> CommissionHold:
    """The flag was right: the held commission goes to the shop's margin, as if
    no sharer had brought the purchase."""
    return _resolve_hold(line, CommissionHold.Status.VOIDED, actor=actor, reason=reason)


def _resolve_hold(line, to: str, *, actor, reason: str) -> CommissionHold:
    queries.lock_orders([line.order_id])
    hold = CommissionHold.objects.select_for_update().filter(line_id=line.pk).first()
    if hold is None:
        raise Conflict("This line's commission is not held.", code="not_held")
    transition(hold, to, actor=actor, reason=reason)
    sharer = queries.sharer_owner(line.commission_beneficiary_id)
    amount = _line_balance(line.pk, sharer, Kind.HELD)
    if amount:
        settled = LineSettlement.objects.filter(line_id=line.pk).exists()
        kind = Kind.AVAILABLE if settled else Kind.PENDING
        to_owner = (
            sharer if to == CommissionHold.Status.RELEASED else queries.shop_owner(line.shop_id)
        )
        builder = _EntryBuilder(line.order.currency)
        builder.add(sharer, Kind.HELD, amount, line.pk)
        builder.add(to_owner, kind, -amount, line.pk)
        released = to == CommissionHold.Status.RELEASED
        _write_entry(
            JournalEntry(
                kind=JournalEntry.Kind.HOLD_RELEASED if released else JournalEntry.Kind.HOLD_VOIDED,
                order_id=line.order_id,
                memo=f"held commission of line #{line.pk} {'released' if released else 'voided'}",
                created_at=clock.now(),
            ),
            builder,
        )
    return hold


# -- settlement --


def _due_orders(now: dt.datetime):
    from kinshop.orders.models import Order

    due_before = now - dt.timedelta(days=settings.KINSHOP_AFTER_SALES_DAYS)
    return Order.objects.filter(
        Q(status=Order.Status.COMPLETED, completed_at__lte=due_before)
        | Q(status=Order.Status.REFUNDED)
    ).filter(lines__settlement__isnull=True)


def settle_due(*, now: dt.datetime, max_orders: int = SETTLEMENT_BATCH_ORDERS) -> int:
    """Settle the lines of up to `max_orders` orders completed at least the
    after-sales window ago: what is still pending for each party on a line moves
    to available, and the line is marked settled. Fully refunded orders have
    nothing left pending; their lines are marked settled. Idempotent (a settled
    line is never settled again), a fixed number of set-based statements per
    batch whatever its size (three on PostgreSQL, seven on SQLite): the postings
    are computed and written by the database (`INSERT ... SELECT`), not row by
    row in Python.

    One batch per call, so that the caller commits between batches and a
    refund of a matured order never waits behind the whole backlog: the job
    runner calls it again until it returns 0. The batch's orders are locked with
    SKIP LOCKED (on PostgreSQL), so several workers settle different orders at
    once and an order being refunded is left for the next batch. Returns the
    lines settled."""
    return settle_batch(now=now, max_orders=max_orders)[0]


def settle_batch(
    *, now: dt.datetime, max_orders: int = SETTLEMENT_BATCH_ORDERS, after_order_id: int = 0
) -> tuple[int, int | None]:
    """settle_due for the due orders numbered above `after_order_id` (a job
    going through the backlog in order need not look below where its last batch
    ended: the orders there are settled, or held by another worker). Returns
    the lines settled and the last order of the batch (None: nothing was due)."""
    from kinshop.orders.models import Order, OrderLine

    due_before = now - dt.timedelta(days=settings.KINSHOP_AFTER_SALES_DAYS)
    if connection.vendor == "postgresql":
        return _settle_batch_postgresql(now, due_before, max_orders, after_order_id)
    # SQLite: one writer at a time (the transaction holds the database's write
    # lock from its start), so the batch needs no row locks.
    batch = list(
        Order.objects.filter(
            Q(status=Order.Status.COMPLETED, completed_at__lte=due_before)
            | Q(status=Order.Status.REFUNDED),
            pk__gt=after_order_id,
        )
        # A scalar subquery rather than EXISTS: the database then walks the
        # orders from `after_order_id` up and looks at each one's lines, instead
        # of joining every line it has ever settled.
        .annotate(
            unsettled_line=Subquery(
                OrderLine.objects.filter(order=OuterRef("pk"), settlement__isnull=True).values(
                    "pk"
                )[:1]
            )
        )
        .filter(unsettled_line__isnull=False)
        .order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)[:max_orders]
    )
    if not batch:
        return 0, None
    return _settle_orders(batch, now), batch[-1]


def _settle_batch_postgresql(
    now: dt.datetime, due_before: dt.datetime, max_orders: int, after_order_id: int
) -> tuple[int, int | None]:
    """settle_batch on PostgreSQL, in three statements whatever the batch's size:

    1. claim the batch: the first `max_orders` due orders above `after_order_id`
       with a line not yet settled, locked FOR UPDATE SKIP LOCKED (another
       worker's batch, or an order being refunded, is skipped);
    2. read which of their lines are still unsettled, now that they are locked
       (a worker that settled one of them committed before this statement
       began), and create the available accounts their parties lack;
    3. one statement writing the whole batch: the settlement entries, the
       postings (each line's pending money out, per party; each party's
       available in, per order) and the line settlements, all `INSERT ...
       SELECT` from the batch's postings, read once.

    Every read starts from the batch and goes down an index: a line's
    settlement and postings are looked up by the line (scalar and LATERAL
    subqueries, which the planner cannot turn into joins), an account by its
    key. So whatever the planner believes of the tables' sizes (statistics go
    stale while a run writes), no statement scans a table's history, and the
    cost of a batch follows the batch, not the ledger. Step 3 names its lines
    as a list of ids, which the planner counts exactly."""
    from kinshop.orders.models import Order, OrderLine

    line, order, posting, account, entry, settled = (
        model._meta.db_table
        for model in (OrderLine, Order, Posting, Account, JournalEntry, LineSettlement)
    )
    unsettled = f"(SELECT s.id FROM {settled} s WHERE s.line_id = u.id) IS NULL"
    # Each account of the batch's postings, once, with its kind and its party's
    # available account (NULL when the party has none yet).
    accounts = f"""SELECT d.account_id, a.kind, a.owner_kind, a.owner_key, a.currency,
               a.supplier_id, a.shop_id, a.user_id,
               (SELECT v.id FROM {account} v WHERE v.kind = %(available)s
                AND v.owner_key = a.owner_key AND v.currency = a.currency) AS available_id
        FROM (SELECT DISTINCT account_id FROM {{postings}}) d
        CROSS JOIN LATERAL (SELECT * FROM {account} WHERE id = d.account_id LIMIT 1) a"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT o.id FROM {order} o
                WHERE o.id > %(after)s
                AND ((o.status = %(completed)s AND o.completed_at <= %(due)s)
                     OR o.status = %(refunded)s)
                AND (SELECT u.id FROM {line} u WHERE u.order_id = o.id AND {unsettled}
                     LIMIT 1) IS NOT NULL
                ORDER BY o.id LIMIT %(limit)s
                FOR UPDATE OF o SKIP LOCKED""",
            {
                "after": after_order_id,
                "completed": Order.Status.COMPLETED,
                "refunded": Order.Status.REFUNDED,
                "due": due_before,
                "limit": max_orders,
            },
        )
        order_ids = [order_id for (order_id,) in cursor.fetchall()]
        if not order_ids:
            return 0, None
        cursor.execute(
            f"""WITH l AS MATERIALIZED (
                    SELECT u.id FROM {line} u
                    WHERE u.order_id = ANY(%(orders)s) AND {unsettled}),
                q AS MATERIALIZED (
                    SELECT x.account_id FROM l CROSS JOIN LATERAL (
                        SELECT DISTINCT account_id FROM {posting} WHERE line_id = l.id) x),
                a AS MATERIALIZED ({accounts.format(postings="q")}),
                created AS (
                    INSERT INTO {account} (owner_kind, owner_key, kind, currency, supplier_id,
                                           shop_id, user_id, created_at)
                    SELECT DISTINCT owner_kind, owner_key, %(available)s, currency,
                           supplier_id, shop_id, user_id, %(at)s
                    FROM a WHERE kind = %(pending)s AND available_id IS NULL
                    ON CONFLICT DO NOTHING)
                SELECT id FROM l ORDER BY id""",
            {
                "orders": order_ids,
                "available": Kind.AVAILABLE,
                "pending": Kind.PENDING,
                "at": now,
            },
        )
        line_ids = [line_id for (line_id,) in cursor.fetchall()]
        if not line_ids:
            return 0, order_ids[-1]
        # `pend`: what is still pending per line and party. A fully refunded
        # order owes nobody anything: money still pending on one of its lines
        # means something is off, so the line is left (`suspect`) for the health
        # check to show. Were a party's available account missing, the
        # posting's NOT NULL account would refuse the whole batch rather than
        # let an unbalanced entry be written.
        cursor.execute(
            f"""WITH l AS MATERIALIZED (
                    SELECT u.id, u.order_id,
                           (SELECT o.status FROM {order} o WHERE o.id = u.order_id) AS status
                    FROM {line} u WHERE u.id = ANY(%(lines)s)),
                sums AS MATERIALIZED (
                    SELECT l.id AS line_id, l.order_id, l.status, x.account_id, x.amount
                    FROM l CROSS JOIN LATERAL (
                        SELECT account_id, SUM(amount) AS amount FROM {posting}
                        WHERE line_id = l.id GROUP BY account_id) x
                    WHERE x.amount <> 0),
                a AS MATERIALIZED ({accounts.format(postings="sums")}),
                pend AS MATERIALIZED (
                    SELECT s.line_id, s.order_id, s.status, s.account_id, s.amount,
                           a.available_id
                    FROM sums s JOIN a ON a.account_id = s.account_id
                    WHERE a.kind = %(pending)s),
                suspect AS MATERIALIZED (
                    SELECT DISTINCT line_id FROM pend WHERE status = %(refunded)s),
                moving AS MATERIALIZED (
                    SELECT * FROM pend WHERE line_id NOT IN (SELECT line_id FROM suspect)),
                entries AS (
                    INSERT INTO {entry} (kind, memo, order_id, created_at)
                    SELECT %(settlement)s, %(memo)s || CAST(d.order_id AS VARCHAR(20)),
                           d.order_id, %(at)s
                    FROM (SELECT DISTINCT order_id FROM moving) d
                    ORDER BY d.order_id
                    RETURNING id, order_id),
                postings AS (
                    INSERT INTO {posting} (entry_id, account_id, amount, line_id)
                    SELECT e.id, m.account_id, -m.amount, m.line_id
                    FROM moving m JOIN entries e ON e.order_id = m.order_id
                    UNION ALL
                    SELECT e.id, m.available_id, SUM(m.amount), NULL
                    FROM moving m JOIN entries e ON e.order_id = m.order_id
                    GROUP BY e.id, m.available_id HAVING SUM(m.amount) <> 0),
                done AS (
                    INSERT INTO {settled} (line_id, order_id, entry_id, settled_at)
                    SELECT l.id, l.order_id, e.id, %(at)s
                    FROM l LEFT JOIN entries e ON e.order_id = l.order_id
                    WHERE l.id NOT IN (SELECT line_id FROM suspect)
                    RETURNING id)
                SELECT (SELECT COUNT(*) FROM done),
                       ARRAY(SELECT line_id FROM suspect ORDER BY line_id)""",
            {
                "lines": line_ids,
                "pending": Kind.PENDING,
                "available": Kind.AVAILABLE,
                "refunded": Order.Status.REFUNDED,
                "settlement": JournalEntry.Kind.SETTLEMENT,
                "memo": "settlement of order #",
                "at": now,
            },
        )
        count, suspect = cursor.fetchone()
    for line_id in suspect:
        logger.warning("refunded order line %s still has pending money", line_id)
    return count, order_ids[-1]


def _settle_orders(order_ids: list[int], now: dt.datetime) -> int:
    """The set-based settlement of these orders' unsettled lines on SQLite
    (which has no data-modifying WITH: one statement per step). Every
    statement re-reads which lines are still unsettled, so that a line settled
    by another worker since the batch was chosen is left alone (the unique line
    of a LineSettlement stays the last guard). Each statement starts from the
    batch's lines (a materialized CTE), so its cost follows the batch, not the
    ledger's size."""
    from kinshop.orders.models import Order, OrderLine

    line, order, posting, account, entry, settled = (
        model._meta.db_table
        for model in (OrderLine, Order, Posting, Account, JournalEntry, LineSettlement)
    )
    at = connection.ops.adapt_datetimefield_value(now)

    def run(cursor, sql: str, params: list, *, left_out: list[int] = ()) -> None:  # type: ignore[assignment]
        """`sql` over `l`, the batch's unsettled lines (less `left_out`), and `p`,
        their postings. Both are materialized: the database reads the postings
        of these lines by their index, however many postings the ledger holds."""
        excluded = f" AND id NOT IN ({rows.placeholders(len(left_out))})" if left_out else ""
        cursor.execute(
            f"""WITH l AS MATERIALIZED (
                    SELECT id, order_id FROM {line}
                    WHERE order_id IN ({rows.placeholders(len(order_ids))}){excluded}
                    AND NOT EXISTS (SELECT 1 FROM {settled} s WHERE s.line_id = {line}.id)),
                p AS MATERIALIZED (
                    SELECT l.id AS line_id, l.order_id, q.account_id, q.amount, q.entry_id
                    FROM l JOIN {posting} q ON q.line_id = l.id)
                {sql}""",
            [*order_ids, *left_out, *params],
        )

    # What is still pending per line and account.
    pending = f"""FROM p JOIN {account} a ON a.id = p.account_id WHERE a.kind = %s"""

    with connection.cursor() as cursor:
        # A fully refunded order owes nobody anything; money still pending on
        # one of its lines means something is off: leave the line for the
        # health check to show.
        run(
            cursor,
            f"""SELECT DISTINCT p.line_id {pending}
                AND p.order_id IN (SELECT o.id FROM {order} o WHERE o.status = %s)
                GROUP BY p.line_id, p.account_id HAVING SUM(p.amount) <> 0""",
            [Kind.PENDING, Order.Status.REFUNDED],
        )
        suspect = sorted(line_id for (line_id,) in cursor.fetchall())
        for line_id in suspect:
            logger.warning("refunded order line %s still has pending money", line_id)

        # One settlement entry per order with money still pending on a line.
        run(
            cursor,
            f"""INSERT INTO {entry} (kind, memo, order_id, created_at)
                SELECT DISTINCT %s, %s || CAST(x.order_id AS VARCHAR(20)), x.order_id, %s
                FROM (SELECT p.order_id AS order_id {pending}
                      GROUP BY p.order_id, p.line_id, p.account_id
                      HAVING SUM(p.amount) <> 0) x
                WHERE 1 = 1
                RETURNING id""",
            [JournalEntry.Kind.SETTLEMENT, "settlement of order #", at, Kind.PENDING],
            left_out=suspect,
        )
        entry_ids = [entry_id for (entry_id,) in cursor.fetchall()]
        # The entries just written are this batch's orders' entries numbered from
        # the first of them: no other transaction writes entries or postings for
        # these orders while their rows are locked. (A range, not a list of ids,
        # which the database would scan once per row.)
        first_entry = min(entry_ids, default=0)
        of_entry = f"JOIN {entry} e ON e.order_id = p.order_id AND e.id >= %s"

        # The parties' available accounts, where they do not exist yet.
        run(
            cursor,
            f"""INSERT INTO {account}
                    (owner_kind, owner_key, kind, currency, supplier_id, shop_id, user_id,
                     created_at)
                SELECT DISTINCT a.owner_kind, a.owner_key, %s, a.currency, a.supplier_id,
                       a.shop_id, a.user_id, %s
                {pending}
                AND NOT EXISTS (SELECT 1 FROM {account} b WHERE b.kind = %s
                                AND b.owner_key = a.owner_key AND b.currency = a.currency)
                ON CONFLICT DO NOTHING""",
            [Kind.AVAILABLE, at, Kind.PENDING, Kind.AVAILABLE],
            left_out=suspect,
        )
        # Each line's pending money leaves pending, per party...
        run(
            cursor,
            f"""INSERT INTO {posting} (entry_id, account_id, amount, line_id)
                SELECT e.id, p.account_id, -SUM(p.amount), p.line_id
                FROM p {of_entry}
                JOIN {account} a ON a.id = p.account_id
                WHERE a.kind = %s
                GROUP BY e.id, p.account_id, p.line_id HAVING SUM(p.amount) <> 0""",
            [first_entry, Kind.PENDING],
            left_out=suspect,
        )
        # ...and arrives in the party's available account, once per order (what was
        # pending before the postings just written).
        run(
            cursor,
            f"""INSERT INTO {posting} (entry_id, account_id, amount, line_id)
                SELECT e.id, v.id, SUM(p.amount), NULL
                FROM p {of_entry}
                JOIN {account} a ON a.id = p.account_id
                JOIN {account} v ON v.kind = %s AND v.owner_key = a.owner_key
                    AND v.currency = a.currency
                WHERE a.kind = %s AND p.entry_id < %s
                GROUP BY e.id, v.id HAVING SUM(p.amount) <> 0""",
            [first_entry, Kind.AVAILABLE, Kind.PENDING, first_entry],
            left_out=suspect,
        )
        # Every line settled, with its order's entry when it had one.
        run(
            cursor,
            f"""INSERT INTO {settled} (line_id, order_id, entry_id, settled_at)
                SELECT l.id, l.order_id,
                       (SELECT MAX(e.id) FROM {entry} e
                        WHERE e.order_id = l.order_id AND e.id >= %s AND %s > 0),
                       %s
                FROM l WHERE 1 = 1
                RETURNING id""",
            [first_entry, first_entry, at],
            left_out=suspect,
        )
        # Counted from RETURNING: SQLite gives no row count for a WITH ... INSERT.
        return len(cursor.fetchall())


def _merge_available(builder: _EntryBuilder) -> _EntryBuilder:
    """One available posting per party per settlement, not one per line."""
    merged = _EntryBuilder(builder.currency)
    available: dict[Owner, int] = defaultdict(int)
    for ref, amount, line_id in builder.postings:
        if ref.kind == Kind.AVAILABLE:
            available[ref.owner] += amount
        else:
            merged.add(ref.owner, ref.kind, amount, line_id)
    for owner, amount in available.items():
        merged.add(owner, Kind.AVAILABLE, amount)
    return merged


# -- withdrawals --


def _require_operator(actor) -> None:
    if not (actor is not None and actor.is_authenticated and actor.is_staff):
        raise Forbidden("Only an operator can decide on withdrawals.", code="not_operator")


def request_withdrawal(*, user, amount: int, wallet: str = "sharer") -> Withdrawal:
    """Take money out of a wallet (提现): needs a verified identity, at least the
    minimum, and no more than is available; a debt in this wallet blocks it. A
    debt in another of the person's wallets (a refund after settlement) is
    recovered first: the same entry repays it from the amount asked for, and
    only the rest is held and paid out. The money moves at once, under locks on
    the accounts involved, so two requests can never both take the same money."""
    from kinshop.accounts.services import is_identity_verified

    owner = queries.owner_for(user, wallet)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("A withdrawal is a positive amount in fen.", code="invalid_amount")
    if not is_identity_verified(user):
        raise Forbidden("Verify your identity before withdrawing.", code="identity_not_verified")
    minimum = settings.KINSHOP_MIN_WITHDRAWAL
    if amount < minimum:
        raise Conflict(
            f"A withdrawal is at least {minimum} fen.", code="below_minimum", minimum=minimum
        )
    currency = settings.KINSHOP_CURRENCY
    available_ref = _Ref(owner, Kind.AVAILABLE, currency)
    hold_ref = _Ref(owner, Kind.WITHDRAWAL_HOLD, currency)
    accounts = _accounts([available_ref, hold_ref])
    others = [other for other in queries.personal_owners(user) if other != owner]
    other_available = {
        account.owner_key: account
        for account in Account.objects.filter(
            owner_key__in=[other.key for other in others], kind=Kind.AVAILABLE, currency=currency
        )
    }
    queries.lock_accounts(
        [account.pk for account in [*accounts.values(), *other_available.values()]]
    )
    sums = queries.account_balances(
        [accounts[available_ref].pk, *(account.pk for account in other_available.values())]
    )
    available = -sums[accounts[available_ref].pk]
    if available < 0:
        raise Conflict(
            "A debt from a refund must be recovered before any withdrawal.",
            code="insufficient_funds",
            available=available,
            debt=-available,
        )
    if amount > available:
        raise Conflict(
            "The amount is more than is available.",
            code="insufficient_funds",
            available=available,
        )
    # Debit-positive sums: a positive one on an available account is a debt.
    debts = {
        key: sums[account.pk]
        for key, account in sorted(other_available.items())
        if sums[account.pk] > 0
    }
    repayments = rules.repay_debts(amount, debts)
    repaid = sum(repayments.values())
    if repaid == amount:
        raise Conflict(
            "A debt in another of your wallets is recovered first; withdraw more than it.",
            code="debt_first",
            debt=sum(debts.values()),
        )
    withdrawal = Withdrawal.objects.create(
        user=user,
        wallet=wallet,
        owner_key=owner.key,
        amount=amount - repaid,
        debt_repaid=repaid,
        currency=currency,
        created_at=clock.now(),
    )
    record_creation(withdrawal, actor=user, at=withdrawal.created_at)
    builder = _EntryBuilder(currency)
    builder.add(owner, Kind.AVAILABLE, amount)
    builder.add(owner, Kind.WITHDRAWAL_HOLD, -(amount - repaid))
    for key, repayment in sorted(repayments.items()):
        builder.add(Owner.from_key(key), Kind.AVAILABLE, -repayment)
    memo = f"withdrawal #{withdrawal.pk} requested"
    if repaid:
        memo += f", {repaid} fen of it repaying a debt"
    _write_entry(
        JournalEntry(
            kind=JournalEntry.Kind.WITHDRAWAL,
            withdrawal=withdrawal,
            memo=memo,
            created_at=clock.now(),
        ),
        builder,
    )
    return withdrawal


def approve_withdrawal(*, withdrawal: Withdrawal, actor, reason: str = "") -> Withdrawal:
    """An operator approves: the held money is paid out (the payout provider is
    called after commit) and the withdrawal is `paid_out`."""
    _require_operator(actor)
    withdrawal = queries.lock_withdrawal(withdrawal.pk)
    transition(withdrawal, Withdrawal.Status.APPROVED, actor=actor, reason=reason)
    _release_hold(withdrawal, to=Kind.PAYOUT, entry_kind=JournalEntry.Kind.PAYOUT, what="paid out")
    transition(withdrawal, Withdrawal.Status.PAID_OUT, actor=actor, reason="payout sent")
    withdrawal_id = withdrawal.pk
    transaction.on_commit(lambda: _send_payout(withdrawal_id))
    return withdrawal


def _send_payout(withdrawal_id: int) -> None:
    """Where a real payout provider would be called, after the commit."""
    logger.info("payout of withdrawal #%s sent", withdrawal_id)


def reject_withdrawal(*, withdrawal: Withdrawal, actor, reason: str = "") -> Withdrawal:
    """An operator rejects: the held money goes back to available."""
    _require_operator(actor)
    withdrawal = queries.lock_withdrawal(withdrawal.pk)
    transition(withdrawal, Withdrawal.Status.REJECTED, actor=actor, reason=reason)
    _release_hold(
        withdrawal,
        to=Kind.AVAILABLE,
        entry_kind=JournalEntry.Kind.WITHDRAWAL_REJECTED,
        what="rejected",
    )
    return withdrawal


def _release_hold(withdrawal: Withdrawal, *, to: str, entry_kind: str, what: str) -> None:
    """Move a withdrawal's held money out of the hold: to the payout account
    when it is paid, back to available when it is rejected."""
    owner = Owner.from_key(withdrawal.owner_key)
    builder = _EntryBuilder(withdrawal.currency)
    builder.add(owner, Kind.WITHDRAWAL_HOLD, withdrawal.amount)
    builder.add(owner, to, -withdrawal.amount)
    _write_entry(
        JournalEntry(
            kind=entry_kind,
            withdrawal=withdrawal,
            memo=f"withdrawal #{withdrawal.pk} {what}",
            created_at=clock.now(),
        ),
        builder,
    )
