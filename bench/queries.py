"""SQL queries per request, counted in-process (Django's test client, the real
URLconf and middleware) against the bench database."""

from __future__ import annotations

import json
import uuid

from bench.common import load, save, setup_django

ADDRESS = {"name": "Bench Buyer", "phone": "13800000000", "region": "Shanghai", "detail": "1 Road"}


def main() -> None:
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seed = load("seed")
    client = Client(
        raise_request_exception=False, headers={"Authorization": f"Bearer {seed['tokens'][0]}"}
    )
    counts: dict[str, int] = {}
    samples: dict[str, list[str]] = {}

    def measure(name: str, method: str, path: str, body=None, expect: int = 200):
        with CaptureQueriesContext(connection) as captured:
            if method == "get":
                response = client.get(path)
            else:
                response = client.post(
                    path,
                    data=json.dumps(body),
                    content_type="application/json",
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
        if response.status_code != expect:
            # Keep measuring the rest; the report shows which request failed.
            print(f"  !! {name}: HTTP {response.status_code} {response.content[:200]!r}")
            counts[name] = f"HTTP {response.status_code}"
            return None
        counts[name] = len(captured.captured_queries)
        samples[name] = [query["sql"][:300] for query in captured.captured_queries]
        return response

    # Warm up anything cached per process (content types, translations, templates).
    client.get(f"/shop/{seed['small_shop']}/")
    for lines in (1, 10):
        order = {
            "shop": seed["main_shop"],
            "lines": [{"sku_id": sku, "quantity": 1} for sku in seed["skus"][:lines]],
            "address": ADDRESS,
        }
        response = measure(f"create_order_{lines}", "post", "/api/v1/orders", order, 201)
        if response is None:
            continue
        order_id = response.json()["id"]
        response = measure(
            f"pay_order_{lines}",
            "post",
            f"/api/v1/orders/{order_id}/payments",
            {"provider": "sandbox"},
            201,
        )
        if response is not None:
            measure(
                f"sandbox_confirm_{lines}",
                "post",
                f"/api/v1/payments/{response.json()['id']}/sandbox-confirm",
                {},
            )
    # Storefronts the same way for both sizes: first cold (nothing kept: the
    # page rendered and kept), then warm (the kept page; 0 queries until its
    # versions are due to be read again, KINSHOP_STOREFRONT_RECHECK_SECONDS).
    from django.core.cache import cache

    cache.clear()
    for name, handle in (
        ("storefront_10", seed["small_shop"]),
        ("storefront_100", seed["main_shop"]),
    ):
        measure(f"{name}_cold", "get", f"/shop/{handle}/")
        measure(name, "get", f"/shop/{handle}/")
    measure("trivial", "get", "/bench/trivial/")
    save("queries", counts)
    save("query_samples", samples)
    print("  queries per request: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
