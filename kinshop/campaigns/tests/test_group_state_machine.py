"""A Hypothesis state machine over one group buy: members join, pay, the clock
moves past groups' time limits (the jobs run), members of succeeded groups are
refunded. After every step: a succeeded group has exactly N paid orders; a
failed group has no paid, unrefunded order; seats and paid members match the
orders; the ledger balances."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kinshop import testing
from kinshop.campaigns import services as campaigns
from kinshop.campaigns.models import Group
from kinshop.core import clock
from kinshop.core.errors import DomainError
from kinshop.ledger import queries as ledger_queries
from kinshop.ops.jobs import run_due
from kinshop.orders import services as orders
from kinshop.orders.models import Order
from kinshop.payments import services as payments

pytestmark = pytest.mark.django_db

SIZE = 3


class Groups(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.shift = dt.timedelta(0)
        _, staff = testing.make_supplier()
        product = testing.make_product(staff=staff, title=testing.unique("团"))
        self.sku = product.skus.get()
        self.shop = testing.make_shop(products=[product], price=9900)
        self.operator = testing.make_operator(testing.unique("op"))
        self.offer = campaigns.create_group_buy(
            user=self.shop.owner,
            shop=self.shop,
            sku_id=self.sku.id,
            group_price=8800,
            group_size=SIZE,
            hours=1,
            ends_at=clock.now() + dt.timedelta(days=30),
        )
        self.people = [testing.make_user(phone=f"1370000{index:04d}") for index in range(8)]

    def _address(self, person):
        return orders.Address(
            name="王芳", phone=person.phone, region="北京市", detail="长安街 1 号"
        )

    def _now(self):
        return clock.now() + self.shift

    @rule(who=st.integers(0, 7))
    def start(self, who):
        person = self.people[who]
        with contextlib.suppress(DomainError), transaction.atomic():
            campaigns.start_group(
                user=person,
                group_buy_id=self.offer.id,
                quantity=1,
                address=self._address(person),
            )

    @rule(who=st.integers(0, 7), which=st.integers(0, 10))
    def join(self, who, which):
        groups = list(Group.objects.order_by("pk").values_list("pk", flat=True))
        if not groups:
            return
        person = self.people[who]
        with contextlib.suppress(DomainError), transaction.atomic():
            campaigns.join_group(
                user=person,
                group_id=groups[which % len(groups)],
                quantity=1,
                address=self._address(person),
            )

    @rule(which=st.integers(0, 50))
    def pay(self, which):
        unpaid = list(Order.objects.filter(status="pending_payment").order_by("pk"))
        if not unpaid:
            return
        order = unpaid[which % len(unpaid)]
        try:
            with transaction.atomic():
                payment = payments.start_payment(
                    user=order.buyer, order_id=order.id, provider="sandbox"
                )
            with transaction.atomic():
                payments.sandbox_confirm(user=order.buyer, payment_id=payment.id)
        except DomainError:
            pass
        testing.commit()

    @rule(minutes=st.sampled_from([10, 31, 61]))
    def time_passes(self, minutes):
        self.shift += dt.timedelta(minutes=minutes)
        run_due(self._now())

    @rule(which=st.integers(0, 50))
    def refund_a_member_of_a_succeeded_group(self, which):
        paid = list(
            Order.objects.filter(status="paid", awaiting_group=False, allotment__isnull=False)
            .exclude(refunds__isnull=False)
            .order_by("pk")
        )
        if not paid:
            return
        order = paid[which % len(paid)]
        with transaction.atomic():
            refund = orders.request_refund(
                user=self.operator, order_id=order.id, amount=order.total, reason="changed mind"
            )
            payments.approve_refund(user=self.operator, refund_id=refund.id)
        testing.commit()

    @invariant()
    def groups_tell_the_truth(self):
        run_due(self._now())  # decide what is due, so the recorded status is current
        for group in Group.objects.select_related("allotment"):
            members = Order.objects.filter(allotment_id=group.pk)
            ever_paid = members.exclude(paid_at=None)
            holding = members.exclude(status="cancelled")
            allotment = group.allotment
            if group.status == Group.Status.SUCCEEDED:
                assert ever_paid.count() == SIZE
                assert allotment.paid == SIZE
                assert not members.filter(awaiting_group=True, status="paid").exists()
            elif group.status == Group.Status.FAILED:
                assert not members.filter(status__in=("paid", "shipped", "completed")).exists()
                assert not members.filter(status="pending_payment").exists()
            else:
                assert ever_paid.count() == allotment.paid < SIZE
                assert holding.count() == allotment.taken <= SIZE
        assert ledger_queries.health()["balanced"]


Groups.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.usefixtures("db")
class TestGroups(Groups.TestCase):
    pass
