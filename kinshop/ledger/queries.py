"""Read helpers for the ledger: wallets, postings, the health check, the
compliance report, and the lock helpers (always in primary-key order)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from kinshop.core.errors import Forbidden, InvalidInput
from kinshop.ledger.models import Account, JournalEntry, LineSettlement, Posting, Withdrawal
from kinshop.wholesale.queries import retail_reach

PLATFORM_KEY = "platform"
WALLETS = tuple(Withdrawal.Wallet.values)


@dataclass(frozen=True)
class Owner:
    """Whose accounts: a party or the platform, and its key in `Account.owner_key`."""

    kind: str  # Account.OwnerKind
    id: int | None = None

    @property
    def key(self) -> str:
        return PLATFORM_KEY if self.kind == Account.OwnerKind.PLATFORM else f"{self.kind}:{self.id}"

    @classmethod
    def from_key(cls, key: str) -> Owner:
        if key == PLATFORM_KEY:
            return cls(Account.OwnerKind.PLATFORM)
        kind, _, number = key.partition(":")
        return cls(kind, int(number))

    def party_fields(self) -> dict[str, int | None]:
        return {
            "supplier_id": self.id if self.kind == Account.OwnerKind.SUPPLIER else None,
            "shop_id": self.id if self.kind == Account.OwnerKind.SHOP else None,
            "user_id": self.id if self.kind == Account.OwnerKind.SHARER else None,
        }


PLATFORM = Owner(Account.OwnerKind.PLATFORM)


def supplier_owner(supplier_id: int) -> Owner:
    return Owner(Account.OwnerKind.SUPPLIER, supplier_id)


def shop_owner(shop_id: int) -> Owner:
    return Owner(Account.OwnerKind.SHOP, shop_id)


def sharer_owner(user_id: int) -> Owner:
    return Owner(Account.OwnerKind.SHARER, user_id)


def owner_for(user, wallet: str) -> Owner:
    """The party whose wallet `user` may see and draw on: their own commission
    as a sharer, their shop's margin as its keeper, their supplier's payable as
    its staff. Anything else is 403."""
    if wallet not in WALLETS:
        raise InvalidInput(
            f"A wallet is one of {', '.join(WALLETS)}.", code="invalid_wallet", wallet=wallet
        )
    if wallet == Withdrawal.Wallet.SHARER:
        return sharer_owner(user.pk)
    if wallet == Withdrawal.Wallet.SHOP:
        from kinshop.shops.models import Shop

        shop_id = Shop.objects.filter(owner=user).values_list("pk", flat=True).first()
        if shop_id is None:
            raise Forbidden("Only a shop's keeper can use its wallet.", code="not_shopkeeper")
        return shop_owner(shop_id)
    from kinshop.catalog.queries import supplier_of

    supplier = supplier_of(user)
    if supplier is None:
        raise Forbidden("Only a supplier's staff can use its wallet.", code="not_supplier_staff")
    return supplier_owner(supplier.pk)


def personal_owners(user) -> list[Owner]:
    """The wallets that are the person's own: their commission as a sharer, and
    their shop's margin if they keep one (a supplier's payable is the
    business's, not its staff's)."""
    from kinshop.shops.models import Shop

    owners = [sharer_owner(user.pk)]
    shop_id = Shop.objects.filter(owner=user).values_list("pk", flat=True).first()
    if shop_id is not None:
        owners.append(shop_owner(shop_id))
    return owners


def balances(owner: Owner, currency: str) -> dict[str, int]:
    """The owner's balance per account kind in the usual sense (what the platform
    owes the party is positive): the negated sum of postings. One query."""
    rows = (
        Posting.objects.filter(account__owner_key=owner.key, account__currency=currency)
        .values("account__kind")
        .annotate(total=Sum("amount"))
    )
    return {row["account__kind"]: -row["total"] for row in rows}


def wallet(user, as_: str = "sharer", currency: str | None = None) -> dict:
    """`{pending, available, debt, held, withdrawal_requested, paid_out, currency}`
    of the caller's wallet: `held` is commission under an open fraud flag,
    `withdrawal_requested` what a withdrawal awaiting the operator holds.
    A refund after settlement can take available below zero: that is a debt,
    recovered from future earnings before any withdrawal."""
    currency = currency or settings.KINSHOP_CURRENCY
    owner = owner_for(user, as_)
    by_kind = balances(owner, currency)
    available = by_kind.get(Account.Kind.AVAILABLE, 0)
    return {
        "wallet": as_,
        "pending": by_kind.get(Account.Kind.PENDING, 0),
        "available": available,
        "debt": max(0, -available),
        # Commission held under an open fraud flag: not settled, not withdrawable.
        "held": by_kind.get(Account.Kind.HELD, 0),
        "withdrawal_requested": by_kind.get(Account.Kind.WITHDRAWAL_HOLD, 0),
        "paid_out": by_kind.get(Account.Kind.PAYOUT, 0),
        "currency": currency,
    }


def wallet_postings(user, as_: str = "sharer") -> QuerySet[Posting]:
    """The postings of the caller's wallet, newest first, with their entries."""
    owner = owner_for(user, as_)
    return (
        Posting.objects.filter(account__owner_key=owner.key)
        .select_related("entry", "account")
        .order_by("-id")
    )


def withdrawals_for(user) -> QuerySet[Withdrawal]:
    """An operator sees every withdrawal; anyone else their own."""
    withdrawals = Withdrawal.objects.order_by("-id")
    return withdrawals if user.is_staff else withdrawals.filter(user=user)


def account_balances(account_ids) -> dict[int, int]:
    """The sum of each account's postings (debit positive), in one query."""
    found = dict.fromkeys(account_ids, 0)
    for row in (
        Posting.objects.filter(account_id__in=list(found))
        .values("account_id")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        found[row["account_id"]] = row["total"]
    return found


def account_balance(account_id: int) -> int:
    """The sum of an account's postings (debit positive)."""
    return (
        Posting.objects.filter(account_id=account_id).aggregate(total=Sum("amount"))["total"] or 0
    )


# -- locks: always in primary-key order, so two transactions never deadlock --


def lock_accounts(account_ids) -> list[Account]:
    return list(Account.objects.select_for_update().filter(pk__in=account_ids).order_by("pk"))


def lock_orders(order_ids) -> list[int]:
    """Lock order rows (settlement and refunds of one order take turns)."""
    from kinshop.orders.models import Order

    return list(
        Order.objects.select_for_update()
        .filter(pk__in=order_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_withdrawal(withdrawal_id: int) -> Withdrawal:
    return Withdrawal.objects.select_for_update().get(pk=withdrawal_id)


# -- health and compliance --


def health() -> dict:
    """Proof that the ledger adds up, in a constant number of queries:
    every entry's postings sum to zero per currency (debits = credits), and no
    settled line still has money pending. Balances are never stored, so each
    is by construction the sum of its postings. Works on an empty ledger."""
    unbalanced = list(
        Posting.objects.values("entry_id", "account__currency")
        .annotate(total=Sum("amount"))
        .filter(~Q(total=0))
        .order_by("entry_id")[:100]
    )
    empty_entries = list(
        JournalEntry.objects.annotate(n=Count("postings"))
        .filter(n=0)
        .values_list("pk", flat=True)[:100]
    )
    settled_but_pending = list(
        Posting.objects.filter(
            account__kind=Account.Kind.PENDING,
            line_id__in=LineSettlement.objects.values("line_id"),
        )
        .values("line_id", "account_id")
        .annotate(total=Sum("amount"))
        .filter(~Q(total=0))
        .order_by("line_id")[:100]
    )
    mismatches = [
        {
            "problem": "entry_unbalanced",
            "entry_id": row["entry_id"],
            "currency": row["account__currency"],
            "sum": row["total"],
        }
        for row in unbalanced
    ]
    mismatches += [{"problem": "entry_without_postings", "entry_id": pk} for pk in empty_entries]
    mismatches += [
        {
            "problem": "settled_line_still_pending",
            "line_id": row["line_id"],
            "account_id": row["account_id"],
            "sum": row["total"],
        }
        for row in settled_but_pending
    ]
    return {
        "balanced": not mismatches,
        "entries": JournalEntry.objects.count(),
        "accounts": Account.objects.count(),
        "postings": Posting.objects.count(),
        "mismatches": mismatches,
    }


def _self_purchase_kinds() -> tuple[Q, Q, Q]:
    """The three ways an order is a self-purchase, as filters on Order: the
    buyer bought through their own share link, through a linked identity's (the
    commission was refused for it, at order time or at payment), or is the
    shop's keeper. (A commission *held* for a shared address, once the trust app
    holds them, counts here too.)"""
    from kinshop.orders.models import OrderLine
    from kinshop.sharing import rules as sharing_rules

    refused = OrderLine.objects.filter(order=OuterRef("pk"))
    own_link = Q(Exists(refused.filter(commission_refusal=sharing_rules.SELF_REFERRAL)))
    linked = Q(Exists(refused.filter(commission_refusal=sharing_rules.LINKED_IDENTITY)))
    keeper = Q(buyer_id=F("shop__owner_id"))
    return own_link, linked, keeper


def _paid_consumer_orders(
    since: dt.datetime | None = None, until: dt.datetime | None = None
) -> QuerySet:
    from kinshop.orders.models import Order

    orders = _consumer_orders(Order.objects.filter(paid_at__isnull=False))
    if since is not None:
        orders = orders.filter(paid_at__gte=since)
    if until is not None:
        orders = orders.filter(paid_at__lt=until)
    return orders


def self_purchases(
    *,
    shop_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict:
    """How much of the paid buying is people buying from themselves, platform-wide
    or in one shop, for orders paid in [since, until): the buyer bought through
    their own share link (`own_link_orders`), through a linked identity's
    (`linked_identity_orders`), or is the shop's keeper (`shopkeeper_own_orders`);
    see `_self_purchase_kinds`. An order counts once in `self_purchase_orders`
    whichever applies; the share is of all paid consumer orders. Two queries
    whatever the history (a count and the aggregate)."""
    orders = _paid_consumer_orders(since, until)
    if shop_id is not None:
        orders = orders.filter(shop_id=shop_id)
    own_link, linked, keeper = _self_purchase_kinds()
    counts = orders.aggregate(
        total=Count("pk"),
        own_link=Count("pk", filter=own_link),
        linked=Count("pk", filter=linked),
        keeper=Count("pk", filter=keeper),
        any=Count("pk", filter=own_link | linked | keeper),
    )
    total = counts["total"]
    return {
        "orders": total,
        "self_purchase_orders": counts["any"],
        "self_purchase_share": counts["any"] / total if total else 0.0,
        "own_link_orders": counts["own_link"],
        "linked_identity_orders": counts["linked"],
        "shopkeeper_own_orders": counts["keeper"],
    }


def self_purchase_days(since: dt.datetime | None = None) -> QuerySet:
    """The self-purchase orders of `self_purchases`, by the same definition, per
    shop and local day of payment from `since` on, as `(shop_id, day,
    self_orders)`: a grouped queryset for insight's set-based rollup to select
    from, so that insight and the compliance report count the same orders."""
    import zoneinfo

    from django.db.models.functions import TruncDate

    own_link, linked, keeper = _self_purchase_kinds()
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return (
        _paid_consumer_orders(since)
        .filter(own_link | linked | keeper)
        .values("shop_id", day=TruncDate("paid_at", tzinfo=tz))
        .annotate(self_orders=Count("pk"))
        .order_by()
    )


def _consumer_orders(orders: QuerySet) -> QuerySet:
    """Orders a consumer placed: a wholesale order (a shopkeeper stocking up
    for offline resale) is not a self-purchase, nor a purchase at all here."""
    return orders.exclude(is_wholesale=True)


def compliance_report() -> dict:
    """What the operator shows a regulator: one commission level by construction,
    how much buying is people's own (self-purchase: through their own or a
    linked account's share link, or a shopkeeper in their own shop; consumer
    orders only), and how many units reach consumers (retail reach:
    `wholesale.queries.retail_reach`; drop-shipped units do by construction,
    wholesale units when sold offline)."""
    from kinshop.orders.models import OrderLine

    own = self_purchases()
    paid_lines = OrderLine.objects.filter(order__paid_at__isnull=False)
    lines = paid_lines.aggregate(
        commissioned=Count("pk", filter=Q(commission_beneficiary__isnull=False)),
        self_commissioned=Count("pk", filter=Q(commission_beneficiary_id=F("order__buyer_id"))),
        sharers=Count("commission_beneficiary", distinct=True),
    )
    reach = retail_reach()
    return {
        "commission_levels": 1,
        **own,
        "commissioned_lines": lines["commissioned"],
        "self_commissioned_lines": lines["self_commissioned"],
        "sharers_earning": lines["sharers"],
        "units_left_suppliers": reach["units_left_suppliers"],
        "units_reached_consumers": reach["units_reached_consumers"],
        "wholesale_units_held": reach["units_held"],
        "retail_reach_rate": reach["rate"],
    }
