"""Pure rules of trust: the trust score and the fraud rules of DESIGN.md §6.

No ORM, no HTTP: each fraud rule takes recent history as plain values and
returns its finding with the evidence that supports it, or None."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from kinshop.sharing import rules as sharing_rules

# ---- trust score ------------------------------------------------------------------

# The Bayesian (IMDb weighted) rating pulls a seller's average towards a prior
# mean as if it had PRIOR_REVIEWS reviews at PRIOR_MEAN stars: five 5-star
# reviews give 3.8, five hundred 4.8s give 4.75.
PRIOR_MEAN = Fraction(7, 2)
PRIOR_REVIEWS = 20
# Rates are smoothed the same way with this many neutral observations.
PRIOR_OBSERVATIONS = 10
PRIOR_ON_TIME = Fraction(9, 10)
PRIOR_REFUND = Fraction(1, 20)
PRIOR_UPHELD = Fraction(1, 10)
# Points of the score (sum 100) and what a penalty point costs.
RATING_WEIGHT = 50
ON_TIME_WEIGHT = 20
REFUND_WEIGHT = 15
COMPLAINT_WEIGHT = 15
POINTS_PER_PENALTY = 3
# The stated bound: k new reviews move the score by at most
# RATING_WEIGHT × k / (PRIOR_REVIEWS + k) points rounded up, plus one for the
# score's own rounding down: three reviews at most 8 points, one review at most 4.
MAX_SWING_ROUNDING = 1


def review_swing_bound(new_reviews: int) -> int:
    """At most how many points `new_reviews` reviews can move a score."""
    swing = Fraction(RATING_WEIGHT * new_reviews, PRIOR_REVIEWS + new_reviews)
    return int(swing) + (swing.denominator != 1) + MAX_SWING_ROUNDING


@dataclass(frozen=True)
class TrustSignals:
    """What a supplier's or shop's trust score is made of."""

    rating_sum: int = 0  # the sum of the stars of its reviews
    rating_count: int = 0
    shipped: int = 0  # fulfilments shipped
    shipped_on_time: int = 0
    orders: int = 0  # paid orders
    refunded: int = 0  # orders with a refund
    complaints: int = 0
    upheld_complaints: int = 0
    penalty_points: int = 0  # within the last year


def bayesian_rating(rating_sum: int, count: int) -> Fraction:
    """(PRIOR_REVIEWS × PRIOR_MEAN + Σ stars) / (PRIOR_REVIEWS + count), 1–5."""
    return (PRIOR_REVIEWS * PRIOR_MEAN + rating_sum) / (PRIOR_REVIEWS + count)


def _smoothed(hits: int, total: int, prior: Fraction) -> Fraction:
    return (PRIOR_OBSERVATIONS * prior + hits) / (PRIOR_OBSERVATIONS + total)


def rate_bp(hits: int, total: int) -> int:
    """A plain rate in basis points (0 when nothing was counted)."""
    return hits * 10_000 // total if total else 0


def trust_score(signals: TrustSignals) -> int:
    """0–100. Half from the Bayesian rating, the rest from on-time shipping,
    the share of orders without a refund and of complaints not upheld (each
    smoothed towards a neutral prior, so one order does not make a rate), less
    POINTS_PER_PENALTY per penalty point. Monotone: a higher rating, more
    on-time shipments, fewer refunds, fewer upheld complaints or fewer penalty
    points never lower it."""
    rating = (bayesian_rating(signals.rating_sum, signals.rating_count) - 1) / 4
    on_time = _smoothed(signals.shipped_on_time, signals.shipped, PRIOR_ON_TIME)
    refund = _smoothed(signals.refunded, signals.orders, PRIOR_REFUND)
    upheld = _smoothed(signals.upheld_complaints, signals.complaints, PRIOR_UPHELD)
    score = (
        RATING_WEIGHT * rating
        + ON_TIME_WEIGHT * on_time
        + REFUND_WEIGHT * (1 - refund)
        + COMPLAINT_WEIGHT * (1 - upheld)
        - POINTS_PER_PENALTY * signals.penalty_points
    )
    return max(0, min(100, int(score)))


def is_suspended_by_points(points_in_year: int, threshold: int) -> bool:
    """Penalty points reaching the threshold within a year suspend."""
    return points_in_year >= threshold


# ---- fraud: linked identity (a shared delivery address) -------------------------

_NOT_ADDRESS = re.compile(r"[\s\-_,，。.、·#()（）]+")


def address_key(region: str, detail: str) -> str:
    """An address compared as DESIGN.md §3 says: full-width characters, case,
    spaces and punctuation make no difference."""
    text = unicodedata.normalize("NFKC", f"{region}{detail}").lower()
    return _NOT_ADDRESS.sub("", text)


def shared_address(
    *, buyer_address: str, sharer_id: int, sharer_addresses: Mapping[str, Sequence[int]]
) -> dict | None:
    """The buyer ships where the sharer has shipped their own orders: a family
    may share a home, so this holds the commission for the operator rather than
    refusing it. `sharer_addresses`: address key → the sharer's order ids."""
    if not buyer_address:
        return None
    orders = sharer_addresses.get(buyer_address)
    if not orders:
        return None
    return {
        "rule": "linked_identity",
        "sharer_id": sharer_id,
        "address": buyer_address,
        "sharer_order_ids": sorted(orders)[:20],
    }


# ---- fraud: order rings (刷单) -------------------------------------------------------


@dataclass(frozen=True)
class Purchase:
    """A paid order bought through a share link: `buyer` bought through `sharer`'s."""

    order_id: int
    buyer_id: int
    sharer_id: int


def find_ring(
    purchases: Iterable[Purchase],
    *,
    through: Purchase,
    min_accounts: int = 3,
    max_accounts: int = 6,
) -> dict | None:
    """Accounts that each bought through another's link in a cycle (A→B→C→A) of
    at least `min_accounts` and that contains the purchase `through`. Returns the
    ring's accounts (in order, starting from `through`'s buyer) and one order
    per step as evidence, or None."""
    edges: dict[int, dict[int, int]] = defaultdict(dict)
    for purchase in purchases:
        if purchase.buyer_id != purchase.sharer_id:
            edges[purchase.buyer_id].setdefault(purchase.sharer_id, purchase.order_id)
    start, first = through.buyer_id, through.sharer_id
    if start == first:
        return None
    # Shortest path from the sharer back to the buyer, breadth first.
    previous: dict[int, tuple[int, int]] = {first: (start, through.order_id)}
    frontier = [first]
    for _ in range(max_accounts - 1):
        next_frontier = []
        for account in frontier:
            for target, order_id in sorted(edges.get(account, {}).items()):
                if target == start:
                    path = [account]
                    orders = [order_id]
                    while path[-1] != first:
                        parent, parent_order = previous[path[-1]]
                        orders.append(parent_order)
                        path.append(parent)
                    path.reverse()
                    orders.append(through.order_id)
                    orders.reverse()
                    accounts = [start, *path]
                    if len(accounts) >= min_accounts:
                        return {
                            "rule": "order_ring",
                            "accounts": accounts,
                            "order_ids": orders,
                        }
                    continue
                if target not in previous:
                    previous[target] = (account, order_id)
                    next_frontier.append(target)
        frontier = next_frontier
    return None


# ---- fraud: pay-then-refund ------------------------------------------------------------


def refund_abuse_buyer(
    *, buyer_id: int, full_refund_order_ids: Sequence[int], threshold: int
) -> dict | None:
    """A buyer with `threshold` or more orders fully refunded after payment in the window."""
    if len(full_refund_order_ids) < threshold:
        return None
    return {
        "rule": "refund_abuse",
        "who": "buyer",
        "buyer_id": buyer_id,
        "full_refunds": len(full_refund_order_ids),
        "threshold": threshold,
        "order_ids": sorted(full_refund_order_ids),
    }


def refund_abuse_sharer(
    *,
    sharer_id: int,
    attributed_order_ids: Sequence[int],
    refunded_order_ids: Sequence[int],
    min_orders: int,
    rate_bp_over: int,
) -> dict | None:
    """A sharer at least `min_orders` of whose attributed orders in the window
    were refunded at over `rate_bp_over` basis points."""
    attributed = len(attributed_order_ids)
    refunded = len(refunded_order_ids)
    if attributed < min_orders or refunded * 10_000 <= rate_bp_over * attributed:
        return None
    return {
        "rule": "refund_abuse",
        "who": "sharer",
        "sharer_id": sharer_id,
        "attributed_orders": attributed,
        "refunded_orders": refunded,
        "refund_rate_bp": rate_bp(refunded, attributed),
        "threshold_bp": rate_bp_over,
        "order_ids": sorted(refunded_order_ids),
    }


# ---- fraud: a leader filling their own group -----------------------------------------


def group_self_fill(
    *, leader: sharing_rules.Person, members: Sequence[sharing_rules.Person], share_bp: int
) -> dict | None:
    """Half (`share_bp`) or more of a group's other members are linked
    identities of its leader (a phone, device, payer account or e-mail in
    common, as for commission)."""
    others = [member for member in members if member.id != leader.id]
    if not others:
        return None
    linked = {
        member.id: how for member in others if (how := sharing_rules.linked_by(leader, member))
    }
    if len(linked) * 10_000 < share_bp * len(others):
        return None
    return {
        "rule": "group_self_fill",
        "leader_id": leader.id,
        "members": len(others),
        "linked_members": {str(member_id): how for member_id, how in sorted(linked.items())},
        "threshold_bp": share_bp,
    }
