"""Crash consistency: Kinshop under gunicorn, on its own PostgreSQL database,
killed with SIGKILL (master and workers at once) in the middle of a checkout
load, then restarted while the clients carry on, retrying what failed with the
same Idempotency-Key. Afterwards nothing promised is lost and nothing is
counted twice:

- every order a client was told exists, exists;
- for every SKU, stock left + units held by live orders = the initial stock
  (cancelled orders gave theirs back);
- no order has two captured payments, and captured payments = paid orders;
- the ledger balances.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.support import databases
from tests.support.http import Answer, call

# gunicorn and eight clients: never beside the browser tests' server
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("servers")]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-9"
SECRET_KEY = "crash-test-secret-key-which-is-long-enough-for-hmac-0123456789"
SHOPPERS = 8
INITIAL_STOCK = 5_000  # never sold out within the load, however fast the machine
LOAD_BEFORE_CRASH = 2.5  # seconds
LOAD_AFTER_RESTART = 2.5
RETRY_FOR = 45.0  # a client gives up on one call after this long
ADDRESS = {
    "name": "王芳",
    "phone": "13800138000",
    "region": "浙江省杭州市",
    "detail": "西湖路 1 号",
}
LIVE = ("pending_payment", "paid", "shipped", "completed")


# ---- the server and its database -------------------------------------------


def _server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _admin_connection() -> psycopg.Connection:
    return psycopg.connect(databases.with_database(_server_url(), "postgres"), autocommit=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Kinshop:
    """gunicorn with two workers in a process group of its own, so one killpg
    takes down the master and every worker at the same instant."""

    def __init__(self, env: dict[str, str], port: int, logs: Path) -> None:
        self.env, self.port, self.logs = env, port, logs
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.logs / f"gunicorn-{self.starts}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "kinshop.wsgi",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "2",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.log_tail()}")
            try:
                if call(self.port, "GET", "/products", timeout=5).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer within 60 s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole group: no worker finishes its request, nothing is flushed."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log_tail(self) -> str:
        path = self.logs / f"gunicorn-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture
def crash_database():
    name = f"kinshop_crash_{os.getpid()}"
    url = databases.migrated_database(_server_url(), name)
    try:
        yield url
    finally:
        databases.drop_database(_server_url(), name)


@pytest.fixture
def kinshop_server(crash_database, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": crash_database,
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": "0",
        "KINSHOP_PAYMENT_SANDBOX": "1",
        "KINSHOP_VAR_DIR": str(tmp_path),
        "KINSHOP_MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SETTINGS_MODULE": "kinshop.settings",
    }
    server = Kinshop(env, _free_port(), tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.kill()


# ---- the clients -------------------------------------------------------------


def _retrying(request, give_up_at: float) -> Answer:
    """Repeat one request (same body, same Idempotency-Key) while the server is down."""
    while True:
        try:
            return request()
        except OSError:
            if time.monotonic() > give_up_at:
                raise
            time.sleep(0.05)


def _seed(port: int, database_url: str) -> dict:
    """Users, a verified supplier with two SKUs, and a shop selling them, all
    through the API (the operator's flag is set in the database, as
    `createsuperuser` would)."""
    run = uuid.uuid4().hex[:6]
    names = {role: f"{role}_{run}" for role in ("operator", "staff", "keeper")}
    names.update({f"buyer{i}": f"buyer{i}_{run}" for i in range(SHOPPERS)})

    def register_and_sign_in(username: str) -> str:
        answer = call(port, "POST", "/accounts", {"username": username, "password": PASSWORD})
        assert answer.status == 201, answer
        token = call(port, "POST", "/auth/tokens", {"username": username, "password": PASSWORD})
        assert token.status == 201, token
        return token.body["token"]

    tokens: dict[str, str] = {}
    threads = [
        threading.Thread(
            target=lambda r=role, u=username: tokens.__setitem__(r, register_and_sign_in(u))
        )
        for role, username in names.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(tokens) == set(names), "some users could not register"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "UPDATE accounts_user SET is_staff = true WHERE username = %s", [names["operator"]]
        )

    supplier = call(
        port,
        "POST",
        "/suppliers",
        {"name": f"Crash Farm {run}", "license_no": f"LIC{run}"},
        token=tokens["staff"],
    )
    assert supplier.status == 201, supplier
    verified = call(
        port, "POST", f"/suppliers/{supplier.body['id']}/verify", {}, token=tokens["operator"]
    )
    assert verified.status == 200, verified
    sku = {"name": "500 g", "supply_price": 6000, "retail_min": 8000, "retail_max": 12000}
    product = call(
        port,
        "POST",
        "/products",
        {
            "title": "Hickory nuts",
            "commission_rate_bp": 1000,
            "skus": [
                {**sku, "code": f"A-{run}", "suggested_retail_price": 9900, "stock": INITIAL_STOCK},
                {**sku, "code": f"B-{run}", "suggested_retail_price": 8800, "stock": INITIAL_STOCK},
            ],
        },
        token=tokens["staff"],
    )
    assert product.status == 201, product
    handle = f"crash-{run}"
    shop = call(
        port, "POST", "/shops", {"handle": handle, "name": "Crash shop"}, token=tokens["keeper"]
    )
    assert shop.status == 201, shop
    selection = call(
        port,
        "POST",
        f"/shops/{handle}/selections",
        {"product_id": product.body["id"]},
        token=tokens["keeper"],
    )
    assert selection.status == 201, selection
    return {
        "tokens": tokens,
        "handle": handle,
        "sku_ids": [row["id"] for row in product.body["skus"]],
    }


class Ledger:
    """What the clients were told, and anything they were told that they should not have been."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.created: dict[int, dict[int, int]] = {}  # order id → {sku id: quantity}
        self.created_after_restart = 0
        self.paid: set[int] = set()
        self.cancelled: set[int] = set()
        self.statuses: Counter[str] = Counter()
        self.unexpected: list[str] = []

    def note(self, step: str, answer: Answer) -> None:
        with self.lock:
            self.statuses[f"{step} {answer.status}"] += 1

    def wrong(self, step: str, answer: Answer) -> None:
        with self.lock:
            self.unexpected.append(f"{step}: {answer.status} {str(answer.body)[:300]}")


def _shop(
    index: int,
    port: int,
    world: dict,
    stop: threading.Event,
    restarted: threading.Event,
    seen: Ledger,
) -> None:
    rng = random.Random(index)
    token = world["tokens"][f"buyer{index}"]
    give_up_at = time.monotonic() + 120
    number = 0
    while not stop.is_set():
        number += 1
        key = f"crash-{index}-{number}-{uuid.uuid4().hex[:8]}"
        lines = {
            sku_id: rng.randint(1, 2) for sku_id in rng.sample(world["sku_ids"], rng.randint(1, 2))
        }
        body = {
            "shop": world["handle"],
            "lines": [
                {"sku_id": sku_id, "quantity": quantity} for sku_id, quantity in lines.items()
            ],
            # Each shopper ships to their own phone: one phone would make the
            # eight one person, who may hold only so many unpaid units.
            "address": {**ADDRESS, "phone": f"1380013{index:04d}"},
        }
        order = _retrying(
            lambda b=body, k=key: call(
                port, "POST", "/orders", b, token=token, headers={"Idempotency-Key": f"{k}-order"}
            ),
            give_up_at,
        )
        seen.note("create_order", order)
        if order.status == 409 and order.body.get("code") == "out_of_stock":
            continue
        if order.status not in (200, 201):
            seen.wrong("create_order", order)
            continue
        order_id = order.body["id"]
        with seen.lock:
            seen.created[order_id] = lines
            seen.created_after_restart += restarted.is_set()

        if number % 3 == 0:  # every third checkout is abandoned: the stock comes back
            cancelled = _retrying(
                lambda o=order_id: call(port, "POST", f"/orders/{o}/cancel", {}, token=token),
                give_up_at,
            )
            seen.note("cancel_order", cancelled)
            # A repeat after a crash that had already committed finds it cancelled.
            if cancelled.status == 200 or (
                cancelled.status == 409 and cancelled.body.get("code") == "invalid_transition"
            ):
                with seen.lock:
                    seen.cancelled.add(order_id)
            else:
                seen.wrong("cancel_order", cancelled)
            continue

        payment = _retrying(
            lambda o=order_id, k=key: call(
                port,
                "POST",
                f"/orders/{o}/payments",
                {"provider": "sandbox"},
                token=token,
                headers={"Idempotency-Key": f"{k}-pay"},
            ),
            give_up_at,
        )
        seen.note("pay_order", payment)
        if payment.status not in (200, 201):
            seen.wrong("pay_order", payment)
            continue
        confirmed = _retrying(
            lambda p=payment.body["id"]: call(
                port, "POST", f"/payments/{p}/sandbox-confirm", {}, token=token
            ),
            give_up_at,
        )
        seen.note("sandbox_confirm_payment", confirmed)
        if confirmed.status == 200 and confirmed.body.get("status") == "captured":
            with seen.lock:
                seen.paid.add(order_id)
        else:
            seen.wrong("sandbox_confirm_payment", confirmed)


# ---- the test -----------------------------------------------------------------


def test_sigkill_mid_checkout_loses_nothing_and_counts_nothing_twice(
    kinshop_server, crash_database
):
    # given a shop with two SKUs of 60 units each, and eight buyers checking out
    server = kinshop_server
    world = _seed(server.port, crash_database)
    stop, restarted = threading.Event(), threading.Event()
    seen = Ledger()
    shoppers = [
        threading.Thread(
            target=_shop, args=(i, server.port, world, stop, restarted, seen), daemon=True
        )
        for i in range(SHOPPERS)
    ]
    for shopper in shoppers:
        shopper.start()

    # when the server dies mid-load and comes back
    time.sleep(LOAD_BEFORE_CRASH)
    created_before_crash = len(seen.created)
    server.kill()
    time.sleep(0.3)
    server.start()
    restarted.set()
    time.sleep(LOAD_AFTER_RESTART)
    stop.set()
    for shopper in shoppers:
        shopper.join(timeout=RETRY_FOR)
    assert not any(shopper.is_alive() for shopper in shoppers), "a client never got an answer"

    # then the load really crossed the crash
    summary = f"answers: {dict(seen.statuses)}"
    print(
        summary,
        f"created before crash: {created_before_crash}, after restart: {seen.created_after_restart}",
    )
    assert created_before_crash > 0, summary
    assert seen.created_after_restart > 0, summary
    assert seen.unexpected == [], summary

    with psycopg.connect(crash_database, autocommit=True) as db:
        orders = dict(db.execute("SELECT id, status FROM orders_order").fetchall())
        # every order a client was told exists, exists
        assert set(seen.created) <= set(orders), sorted(set(seen.created) - set(orders))
        # what the clients were told happened, happened
        assert {orders[o] for o in seen.paid} <= {"paid"}, summary
        assert {orders[o] for o in seen.cancelled} <= {"cancelled"}, summary

        # stock left + units held by live orders = initial stock, SKU by SKU
        stock = dict(
            db.execute(
                "SELECT id, stock FROM catalog_sku WHERE id = ANY(%s)", [world["sku_ids"]]
            ).fetchall()
        )
        held = dict(
            db.execute(
                "SELECT line.sku_id, SUM(line.quantity) FROM orders_orderline line "
                "JOIN orders_order o ON o.id = line.order_id WHERE o.status = ANY(%s) GROUP BY line.sku_id",
                [list(LIVE)],
            ).fetchall()
        )
        for sku_id in world["sku_ids"]:
            assert stock[sku_id] + held.get(sku_id, 0) == INITIAL_STOCK, (sku_id, stock, held)

        # no payment captured twice, and one captured payment per paid order
        twice = db.execute(
            "SELECT order_id, COUNT(*) FROM payments_payment WHERE status = 'captured' "
            "GROUP BY order_id HAVING COUNT(*) > 1"
        ).fetchall()
        assert twice == []
        captured = db.execute(
            "SELECT COUNT(*) FROM payments_payment WHERE status = 'captured'"
        ).fetchone()[0]
        paid = sum(1 for status in orders.values() if status == "paid")
        assert captured == paid, (captured, Counter(orders.values()))

    # and the ledger balances, as the operator sees it
    health = call(server.port, "GET", "/ledger/health", token=world["tokens"]["operator"])
    assert health.status == 200, health
    assert health.body["balanced"] is True, health.body["mismatches"][:5]
    assert health.body["entries"] >= paid
