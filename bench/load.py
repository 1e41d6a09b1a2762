"""The load generator: N client threads on loopback, each with its own buyer
token and its own HTTP connection, bounded in time and count, stopping by
themselves. Plain `http.client` keeps the client's own CPU cost low (it shares
the 2 cores with the server).

    python -m bench.load checkout NAME --clients 8 --seconds 20
    python -m bench.load crowd NAME --clients 32 --hot | --spread --target 300
    python -m bench.load get NAME --clients 8 --seconds 20 --path /shop/x/
    python -m bench.load get NAME --clients 64 --path /s/CODE --expect 302 --watch-connections
    python -m bench.load flashsale NAME --clients 64

In `flashsale`, the seeded buyers of the campaigns flash sale (500 by default)
queue up and the N client threads serve them: each buyer tries once to buy 1
unit (POST /flash-sales/{id}/orders, then pays as a checkout does) and leaves;
the result adds the buyers, the units offered, the sale's own count of units
taken and paid afterwards, and the oversell (taken or paid beyond the units).

A `get` client sends no cookies: every request is a new visitor (for a share
link, a new device whose click counts). `--watch-connections` samples how many
connections the bench database has open (pg_stat_activity) while it runs.

A checkout is what a buyer's app does: POST /orders, POST /orders/{id}/payments
{provider: sandbox}, POST /payments/{id}/sandbox-confirm, each POST with an
Idempotency-Key (so a retried request after a dropped connection is safe).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import resource
import threading
import time
import uuid
from collections import Counter

from bench.common import load, percentile, save

ADDRESS = {"name": "Bench Buyer", "phone": "13800000000", "region": "Shanghai", "detail": "1 Road"}
HARD_LIMIT_SECONDS = 120  # no phase may run longer than this, whatever it waits for


class Http:
    def __init__(self, port: int, token: str | None) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body=None, key: str | None = None):
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        payload = None if body is None else json.dumps(body).encode()
        for attempt in range(3):
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.connection.close()
                return response.status, data
            except (OSError, http.client.HTTPException):
                self.connection.close()
                if attempt == 2:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")


def _code(data: bytes) -> str:
    try:
        return json.loads(data).get("code", "")
    except ValueError:
        return ""


def checkout(client: Http, shop: str, sku_id: int, address: dict = ADDRESS) -> tuple[str, float]:
    """One whole checkout; returns (outcome, seconds)."""
    started = time.perf_counter()
    status, data = client.call(
        "POST",
        "/api/v1/orders",
        {"shop": shop, "lines": [{"sku_id": sku_id, "quantity": 1}], "address": address},
        key=uuid.uuid4().hex,
    )
    if status != 201:
        return f"order:{status}:{_code(data)}", time.perf_counter() - started
    order_id = json.loads(data)["id"]
    status, data = client.call(
        "POST", f"/api/v1/orders/{order_id}/payments", {"provider": "sandbox"}, key=uuid.uuid4().hex
    )
    if status != 201:
        return f"pay:{status}:{_code(data)}", time.perf_counter() - started
    payment_id = json.loads(data)["id"]
    status, data = client.call("POST", f"/api/v1/payments/{payment_id}/sandbox-confirm", {})
    if status != 200 or json.loads(data).get("status") != "captured":
        return f"confirm:{status}:{_code(data)}", time.perf_counter() - started
    return "ok", time.perf_counter() - started


def flash_checkout(client: Http, sale_id: int, address: dict) -> tuple[str, float]:
    """One buyer's flash-sale purchase and payment; returns (outcome, seconds)."""
    started = time.perf_counter()
    status, data = client.call(
        "POST",
        f"/api/v1/flash-sales/{sale_id}/orders",
        {"quantity": 1, "address": address},
        key=uuid.uuid4().hex,
    )
    if status != 201:
        return f"order:{status}:{_code(data)}", time.perf_counter() - started
    order_id = json.loads(data)["id"]
    status, data = client.call(
        "POST", f"/api/v1/orders/{order_id}/payments", {"provider": "sandbox"}, key=uuid.uuid4().hex
    )
    if status != 201:
        return f"pay:{status}:{_code(data)}", time.perf_counter() - started
    payment_id = json.loads(data)["id"]
    status, data = client.call("POST", f"/api/v1/payments/{payment_id}/sandbox-confirm", {})
    if status != 200 or json.loads(data).get("status") != "captured":
        return f"confirm:{status}:{_code(data)}", time.perf_counter() - started
    return "ok", time.perf_counter() - started


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(args) -> dict:
    seed = load("seed")
    lock = threading.Lock()
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    finished_at: list[float] = []
    tickets = {"left": args.target if args.target else 10**9}
    flash_queue = list(range(len(seed.get("flash_sale_tokens", []))))[::-1]
    barrier = threading.Barrier(args.clients + 1)
    times = {}

    def take_ticket() -> bool:
        with lock:
            if tickets["left"] <= 0:
                return False
            tickets["left"] -= 1
            return True

    def worker(number: int) -> None:
        buyer = number % len(seed["tokens"])
        token = seed["tokens"][buyer]
        # Each buyer ships to their own phone: one phone would make them all one
        # person, who may hold only KINSHOP_MAX_UNPAID_UNITS unpaid units of a SKU.
        address = {**ADDRESS, "phone": f"138{buyer:08d}"}
        client = Http(args.port, None if args.mode == "get" else token)
        rng = random.Random(number)
        barrier.wait()
        deadline = times["deadline"]
        while time.perf_counter() < deadline:
            if args.mode == "get":
                started = time.perf_counter()
                status, _ = client.call("GET", args.path)
                outcome, seconds = (
                    ("ok" if status == args.expect else f"get:{status}"),
                    (time.perf_counter() - started),
                )
            elif args.mode == "flashsale":
                with lock:
                    if not flash_queue:
                        return  # every buyer has had their one try
                    index = flash_queue.pop()
                buyer_client = Http(args.port, seed["flash_sale_tokens"][index])
                outcome, seconds = flash_checkout(
                    buyer_client, seed["flash_sale"], {**ADDRESS, "phone": f"137{index:08d}"}
                )
                buyer_client.connection.close()
            else:
                if not take_ticket():
                    return
                if args.mode == "crowd" and args.hot:
                    shop, sku = seed["flash_shop"], seed["flash_sku"]
                else:
                    shop, sku = seed["main_shop"], rng.choice(seed["skus"])
                outcome, seconds = checkout(client, shop, sku, address)
            now = time.perf_counter()
            with lock:
                outcomes[outcome] += 1
                if outcome == "ok":
                    latencies.append(seconds)
                    finished_at.append(now)
            if outcome == "order:409:out_of_stock" and args.mode == "crowd":
                return  # this buyer saw "sold out" and leaves

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    connections: list[int] = []
    if args.watch_connections:
        threading.Thread(target=_watch, args=(connections, times), daemon=True).start()
    limit = (
        args.seconds
        if args.mode not in ("crowd", "flashsale")
        else min(args.limit, HARD_LIMIT_SECONDS)
    )
    cpu_at_start = _cpu_seconds()
    times["start"] = time.perf_counter()
    times["deadline"] = times["start"] + limit
    barrier.wait()
    for thread in threads:
        thread.join(timeout=limit + 70)
    end = time.perf_counter()
    # Throughput over the measured window: for a timed run, the run itself;
    # for a crowd, start to the last completed checkout.
    if args.mode in ("crowd", "flashsale"):
        window = (max(finished_at) - times["start"]) if finished_at else end - times["start"]
    else:
        window = end - times["start"]
    done = len(latencies)
    result = {
        "mode": args.mode,
        "clients": args.clients,
        "window_seconds": round(window, 3),
        "ok": done,
        "per_second": done / window if window > 0 else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "outcomes": dict(outcomes),
        "timed_out_threads": sum(thread.is_alive() for thread in threads),
        # This process's own CPU (its clients, their HTTP and JSON): what the
        # load generator took from the cores the server shares.
        "cpu_seconds": _cpu_seconds() - cpu_at_start,
    }
    if args.mode == "flashsale":
        status, data = Http(args.port, None).call(
            "GET", f"/api/v1/flash-sales/{seed['flash_sale']}"
        )
        sale = json.loads(data) if status == 200 else {"sold": -1, "units": -1}
        units = seed["flash_sale_units"]
        result["units"] = units
        result["buyers"] = len(seed["flash_sale_tokens"])
        result["taken"] = sale["sold"]
        result["paid_units"] = sale.get("paid", -1)
        result["sold_ratio"] = done / units if units else 0.0
        result["oversell"] = (
            max(0, sale["sold"] - units)
            + max(0, done - units)
            + max(0, result["paid_units"] - units)
        )
    if args.watch_connections:
        result["server_errors"] = sum(
            count for outcome, count in outcomes.items() if outcome.startswith("get:5")
        )
        result["max_connections"] = max(connections, default=0)
    return result


def _watch(samples: list[int], times: dict) -> None:
    """Every 0.1 s until the phase ends: connections open to the bench database."""
    import os

    import psycopg

    from bench.db import url_for

    database = os.environ.get("BENCH_DB", "kinshop_bench")
    with psycopg.connect(url_for(os.environ["PG_URL"], "postgres"), autocommit=True) as watcher:
        while "deadline" not in times or time.perf_counter() < times["deadline"]:
            (count,) = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database]
            ).fetchone()
            samples.append(count)
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["checkout", "crowd", "get", "flashsale"])
    parser.add_argument("name")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--path", default="/")
    parser.add_argument("--hot", action="store_true")
    parser.add_argument("--target", type=int, default=0)
    parser.add_argument("--limit", type=float, default=90, help="a crowd's time limit")
    parser.add_argument("--expect", type=int, default=200, help="the status of a good answer")
    parser.add_argument("--watch-connections", action="store_true")
    args = parser.parse_args()
    result = run(args)
    save(args.name, result)
    print(
        f"  {args.name}: {result['ok']} ok in {result['window_seconds']:.1f} s = "
        f"{result['per_second']:.1f}/s, p50 {result['p50_ms']:.0f} ms, "
        f"p99 {result['p99_ms']:.0f} ms, outcomes {result['outcomes']}"
        + (
            f", at most {result['max_connections']} connections to the database"
            if "max_connections" in result
            else ""
        )
        + (
            f", sold {result['ok']} of {result['units']} units (ratio "
            f"{result['sold_ratio']:.2f}), oversell {result['oversell']}"
            if "units" in result
            else ""
        )
    )


if __name__ == "__main__":
    main()
