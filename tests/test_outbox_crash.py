"""A task worker killed between WeChat Pay's answer and the record of it: the
refund is sent again later under the same out_refund_no, so WeChat refunds once
and Kinshop books it once. Real `kinshop worker` processes on PostgreSQL,
against the loopback server that plays WeChat Pay."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.db import connection, transaction

from kinshop import testing
from kinshop.core import clock
from kinshop.ledger.models import JournalEntry
from kinshop.orders import services as orders
from kinshop.orders.models import Order, Refund
from kinshop.orders.rules import Address, LineRequest
from kinshop.payments import services as payments
from kinshop.payments.models import ProviderRefund
from kinshop.payments.tests.wechatpay_server import REFUND_PATH, FakeWeChatPay

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADDRESS = Address(name="王小明", phone="13800138000", region="杭州市西湖区", detail="文三路 90 号")


def kinshop(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kinshop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def process_env(wechat: FakeWeChatPay, **extra: str) -> dict[str, str]:
    """The test database and the fake WeChat Pay, for a separate process."""
    database = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WECHATPAY_", "KINSHOP_CRASH"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="kinshop.settings",
        DATABASE_URL=(
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        **{f"WECHATPAY_{key}": value for key, value in wechat.settings_dict().items()},
        **extra,
    )
    return env


def refund_calls(wechat: FakeWeChatPay, reference: str) -> int:
    return sum(
        1
        for request in wechat.requests
        if request.path == REFUND_PATH and request.json.get("out_refund_no") == reference
    )


def test_a_worker_killed_after_wechat_refunded_still_refunds_once(tmp_path, settings):
    with FakeWeChatPay(tmp_path) as wechat:
        settings.KINSHOP_WECHATPAY = wechat.settings_dict()
        settings.KINSHOP_TASKS_EAGER = False  # leave every money call to the workers
        # given an order paid with WeChat Pay and a refund the supplier approves
        with transaction.atomic():
            _, staff = testing.make_supplier()
            product = testing.make_product(staff=staff)
            shop = testing.make_shop(products=[product], price=9900)
            buyer = testing.make_user()
            sku = product.skus.get()
            order = orders.place_order(
                buyer=buyer,
                shop=shop,
                lines=[LineRequest(sku_id=sku.id, quantity=1)],
                address=ADDRESS,
            )
            payment = payments.start_payment(user=buyer, order_id=order.id, provider="wechatpay")
        with transaction.atomic():
            payments.capture(
                provider="wechatpay", reference=payment.reference, amount=payment.amount
            )
        with transaction.atomic():
            refund = orders.request_refund(
                user=buyer, order_id=order.id, amount=3300, reason="broken"
            )
            payments.approve_refund(user=staff, refund_id=refund.id)
        provider_refund = ProviderRefund.objects.get(refund=refund)

        # when a worker takes the task and dies right after WeChat Pay answered
        crashed = kinshop(
            "worker",
            "--batch",
            "--no-startup-delay",
            env=process_env(wechat, KINSHOP_CRASH_AT="after_provider_refund"),
        )
        assert crashed.returncode == 137, crashed.stderr[-2000:]

        # then WeChat Pay has refunded, and Kinshop has recorded nothing of it yet
        assert refund_calls(wechat, provider_refund.reference) == 1
        provider_refund.refresh_from_db()
        assert (provider_refund.status, provider_refund.attempts) == ("pending", 1)
        assert Refund.objects.get(pk=refund.pk).status == "approved"
        assert JournalEntry.objects.filter(kind=JournalEntry.Kind.REFUND).count() == 0

        # when the jobs run after the dead worker's lease, and a worker runs again
        later = clock.now() + dt.timedelta(hours=1)
        jobs = kinshop("run-jobs", "--at", later.isoformat(), env=process_env(wechat))
        assert jobs.returncode == 0, jobs.stderr[-2000:]
        assert "retry_refunds: 1" in jobs.stdout
        worker = kinshop("worker", "--batch", "--no-startup-delay", env=process_env(wechat))
        assert worker.returncode == 0, worker.stderr[-2000:]

        # then the same out_refund_no went out again, WeChat Pay refunded it once,
        # and Kinshop booked exactly one refund
        assert refund_calls(wechat, provider_refund.reference) == 2
        assert len({r["refund_id"] for r in wechat._state.refunds.values()}) == 1
        provider_refund.refresh_from_db()
        assert (provider_refund.status, provider_refund.attempts) == ("succeeded", 2)
        assert Refund.objects.get(pk=refund.pk).status == "succeeded"
        assert Order.objects.get(pk=order.pk).refunded_amount == 3300
        assert (
            JournalEntry.objects.filter(kind=JournalEntry.Kind.REFUND, refund=refund).count() == 1
        )
