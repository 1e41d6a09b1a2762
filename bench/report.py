"""Print the one results table and write bench/RESULTS.md with the machine it
ran on. Reads the JSON each phase left in $BENCH_TMP."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

import psycopg

from bench.common import load, work_dir
from bench.db import url_for

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _other_jobs(run: dict) -> str:
    """The jobs run_due ran besides settlement, when they took time (older
    results timed them all together)."""
    others = run.get("other_jobs_seconds") or {}
    spent = sum(others.values())
    return f" (other jobs: {spent:.1f} s)" if spent >= 0.1 else ""


def _maybe(name: str):
    try:
        return load(name)
    except FileNotFoundError:
        return None


def _pgbench(clients: int) -> dict:
    path = work_dir() / f"pgbench_{clients}.txt"
    text = path.read_text() if path.exists() else ""
    tps = re.search(r"tps = ([\d.]+)", text)
    latency = re.search(r"latency average = ([\d.]+) ms", text)
    return {
        "tps": float(tps.group(1)) if tps else 0.0,
        "latency_ms": float(latency.group(1)) if latency else 0.0,
    }


def _machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    meminfo = Path("/proc/meminfo").read_text()
    mem_kb = int(re.search(r"MemTotal:\s*(\d+)", meminfo).group(1))
    with psycopg.connect(
        url_for(os.environ["PG_URL"], os.environ.get("BENCH_DB", "kinshop_bench"))
    ) as connection:
        pg = connection.execute("SHOW server_version").fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "cpu": model.group(1).strip() if model else "unknown",
        "postgres": pg,
        "python": platform.python_version(),
        "load_before": os.environ.get("BENCH_LOAD_BEFORE", "?"),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _cpu_per_checkout(name: str, run: dict) -> dict[str, float] | None:
    """Milliseconds of CPU per checkout of the phase `name`: the app server's
    processes, PostgreSQL's and the load generator's (bench/cpu.py)."""
    start, end = _maybe(f"cpu_{name}_start"), _maybe(f"cpu_{name}_end")
    if not (start and end and run["ok"] and "cpu_seconds" in run):
        return None
    per = 1000 / run["ok"]
    return {
        "server": (end["server"] - start["server"]) * per,
        "postgres": (end["postgres"] - start["postgres"]) * per,
        "load": run["cpu_seconds"] * per,
    }


def _ratio(a, b, digits: int = 3) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or not b:
        return "n/a"
    return f"{a / b:.{digits}f}"


def _failed(run: dict) -> str:
    """A note when requests failed (sold out is an answer, not a failure)."""
    failed = sum(
        count
        for outcome, count in run["outcomes"].items()
        if outcome not in ("ok", "order:409:out_of_stock", "order:409:sold_out")
    )
    return f", {failed} FAILED" if failed else ""


def build_rows() -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for clients in (8, 32):
        run = _maybe(f"checkout_{clients}")
        bench = _pgbench(clients)
        if run is None:
            continue
        rows.append(
            (
                f"1. checkout, {clients} clients: orders/s",
                f"{run['per_second']:.1f}{_failed(run)}",
                f"pgbench tpcb-like, {clients} clients: {bench['tps']:.0f} TPS",
                _ratio(run["per_second"], bench["tps"], 4),
            )
        )
        if cpu := _cpu_per_checkout(f"checkout_{clients}", run):
            allowed = (os.cpu_count() or 1) * 1000 / (0.03 * bench["tps"]) if bench["tps"] else 0
            rows.append(
                (
                    f"1. checkout, {clients} clients: CPU per checkout (app / PostgreSQL / load)",
                    " / ".join(f"{cpu[part]:.1f}" for part in ("server", "postgres", "load"))
                    + " ms",
                    f"all the cores give a checkout at 0.03 × pgbench: {allowed:.1f} ms",
                    _ratio(sum(cpu.values()), allowed, 1) + "×",
                )
            )
        rows.append(
            (
                f"1. checkout, {clients} clients: latency p50 / p99",
                f"{run['p50_ms']:.0f} / {run['p99_ms']:.0f} ms",
                f"pgbench latency average {bench['latency_ms']:.1f} ms",
                _ratio(run["p50_ms"], bench["latency_ms"], 0) + "× (p50)",
            )
        )
    hot, spread, checks = _maybe("crowd_hot"), _maybe("crowd_spread"), _maybe("checks")
    if hot and spread:
        rows.append(
            (
                f"2. flash crowd, 32 clients, 1 SKU (stock {checks['flash_initial']}): orders/s",
                f"{hot['per_second']:.1f} (p99 {hot['p99_ms']:.0f} ms){_failed(hot)}",
                f"same load over 100 SKUs: {spread['per_second']:.1f} "
                f"(p99 {spread['p99_ms']:.0f} ms){_failed(spread)}",
                _ratio(hot["per_second"], spread["per_second"], 2),
            )
        )
    if checks:
        rows.append(
            (
                "2. flash crowd: oversell / mismatch / undersell",
                f"{checks['oversell']} / {checks['mismatch']} / {checks['undersell']}",
                f"must be 0 / 0 / 0 ({checks['flash_sold']} sold, {checks['flash_left']} left, "
                f"{checks['flash_sold_out_responses']} told sold out)",
                "ok"
                if checks["oversell"] == checks["mismatch"] == checks["undersell"] == 0
                else "FAIL",
            )
        )
    sale, plain = _maybe("flash_sale"), _maybe("checkout_32")
    if sale:
        rows.append(
            (
                f"8. flash sale, {sale.get('buyers', sale['clients'])} buyers "
                f"({sale['clients']} at once) for {sale['units']} units: sold ÷ offered, oversell",
                f"{sale['sold_ratio']:.2f}, oversell {sale['oversell']}{_failed(sale)}",
                "must be 1.00, oversell 0",
                "ok" if sale["sold_ratio"] == 1.0 and sale["oversell"] == 0 else "FAIL",
            )
        )
        rows.append(
            (
                "8. flash sale: paid orders/s",
                f"{sale['per_second']:.1f} (p99 {sale['p99_ms']:.0f} ms)",
                f"plain checkout, 32 clients: {plain['per_second']:.1f}" if plain else "n/a",
                _ratio(sale["per_second"], plain["per_second"], 2) if plain else "n/a",
            )
        )
    build, run, reference = _maybe("settle_build"), _maybe("settle_run"), _maybe("settle_reference")
    if build:
        lines = build["lines"]
        if run and reference:
            rows.append(
                (
                    f"3. settle {lines:,} matured lines (the settle job)",
                    f"{run['seconds']:.1f} s ({lines / run['seconds']:,.0f} lines/s)"
                    + _other_jobs(run),
                    f"one INSERT of the same {reference['postings']:,} postings: "
                    f"{reference['seconds']:.2f} s",
                    _ratio(run["seconds"], reference["seconds"], 1) + "× slower",
                )
            )
        else:
            rows.append(
                (
                    f"3. settle {lines:,} matured lines (the settle job)",
                    f"did not finish within {os.environ.get('BENCH_SETTLE_TIMEOUT', '?')} s",
                    "-",
                    "FAIL",
                )
            )
    storefront, trivial = _maybe("get_storefront"), _maybe("get_trivial")
    if storefront and trivial:
        rows.append(
            (
                f"4. storefront /shop/<handle>/ (100 products), {storefront['clients']} clients: req/s",
                f"{storefront['per_second']:.1f} (p99 {storefront['p99_ms']:.0f} ms)"
                f"{_failed(storefront)}",
                f"trivial Django view: {trivial['per_second']:.0f} (p99 {trivial['p99_ms']:.0f} ms)",
                _ratio(storefront["per_second"], trivial["per_second"], 4),
            )
        )
    share, trivial_share = _maybe("get_share"), _maybe("get_trivial_share")
    if share and trivial_share:
        rows.append(
            (
                f"6. share landing /s/<code> (new visitor, click recorded), {share['clients']} "
                "clients: req/s",
                f"{share['per_second']:.1f} (p99 {share['p99_ms']:.0f} ms){_failed(share)}",
                f"trivial Django view: {trivial_share['per_second']:.0f} "
                f"(p99 {trivial_share['p99_ms']:.0f} ms)",
                _ratio(share["per_second"], trivial_share["per_second"], 3),
            )
        )
    flood = _maybe("flood_64")
    if flood:
        bound = int(os.environ.get("BENCH_WORKERS", "0")) * int(
            os.environ.get("KINSHOP_DB_POOL_SIZE", "4")
        )
        ok = flood["server_errors"] == 0 and flood["max_connections"] <= bound
        rows.append(
            (
                "7. 64 clients at once on /s/<code>: 5xx / most DB connections open",
                f"{flood['server_errors']} / {flood['max_connections']} "
                f"({flood['per_second']:.0f} req/s, p99 {flood['p99_ms']:.0f} ms)",
                f"0 / at most {bound} (workers × KINSHOP_DB_POOL_SIZE)",
                "ok" if ok else "FAIL",
            )
        )
    live = _maybe("live")
    if live:
        from bench.live import summary

        both = summary(live)
        top, same = both["kinshop"], both["reference"]
        rows.append(
            (
                "9. live room: most SSE viewers with a message to each in p99 ≤ 1 s",
                f"{top['viewers']} (p99 {top['p99_ms']:.0f} ms, "
                f"{top['delivered_per_second']:.0f} msg/s, {top.get('kib_per_viewer', '?')} KiB/viewer)"
                if top
                else "none",
                f"bare Redis pub/sub, as many subscribers: p99 {same['p99_ms']:.0f} ms"
                if same
                else "n/a",
                f"{top['p99_ms'] / same['p99_ms']:.1f}× (p99)"
                if top and same and same["p99_ms"]
                else "n/a",
            )
        )
    counts = _maybe("queries")
    if counts:
        rows.append(
            (
                "5. SQL queries per create_order, 1 / 10 lines",
                f"{counts['create_order_1']} / {counts['create_order_10']}",
                "constant (CONVENTIONS.md)",
                _ratio(counts["create_order_10"], counts["create_order_1"], 2),
            )
        )
        rows.append(
            (
                "5. SQL queries per storefront, 10 / 100 products: kept (first seen)",
                f"{counts['storefront_10']} / {counts['storefront_100']}"
                f" ({counts.get('storefront_10_cold')} / {counts.get('storefront_100_cold')})",
                "constant (CONVENTIONS.md)",
                _ratio(counts.get("storefront_100_cold"), counts.get("storefront_10_cold"), 2),
            )
        )
        parts = [
            counts.get(name) for name in ("create_order_1", "pay_order_1", "sandbox_confirm_1")
        ]
        whole = sum(parts) if all(isinstance(part, int) for part in parts) else "n/a"
        rows.append(
            (
                "5. SQL queries per whole checkout (order + pay + confirm), 1 line",
                f"{whole} ({' + '.join(map(str, parts))})",
                "pgbench tpcb-like: 7 (BEGIN, 3 UPDATE, SELECT, INSERT, END)",
                _ratio(whole, 7, 1) + "×",
            )
        )
    return rows


def table(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("measurement", "Kinshop", "reference", "ratio")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def line(cells) -> str:
        return (
            "| "
            + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    separator = "| " + " | ".join("-" * width for width in widths) + " |"
    return "\n".join([line(header), separator, *(line(row) for row in rows)])


def main() -> None:
    machine = _machine()
    rows = build_rows()
    text = table(rows)
    print()
    print(text)
    seconds = os.environ.get("BENCH_SECONDS", "20")
    workers = os.environ.get("BENCH_WORKERS", "?")
    details = {
        name: _maybe(name)
        for name in (
            "checkout_8",
            "checkout_32",
            "crowd_hot",
            "crowd_spread",
            "get_storefront",
            "get_trivial",
            "get_share",
            "get_trivial_share",
            "flood_64",
            "checks",
            "flash_sale",
            "settle_build",
            "settle_run",
            "settle_reference",
            "queries",
        )
    }
    outcomes = "\n".join(
        f"- `{name}`: {data.get('outcomes', data)}" for name, data in details.items() if data
    )
    # The sections other phases write (insight, live rooms) stay until those
    # phases run again and replace them.
    previous = RESULTS.read_text() if RESULTS.exists() else ""
    kept = "".join(
        f"\n{match.group(0)}\n"
        for match in re.finditer(r"<!-- (\w+):start -->.*?<!-- \1:end -->", previous, re.DOTALL)
    )
    RESULTS.write_text(
        f"""# Kinshop benchmark results

`make bench` on {machine["date"]}.

Machine: {machine["nproc"]} CPUs ({machine["cpu"]}), {machine["ram"]} RAM,
PostgreSQL {machine["postgres"]} on the same machine, Python {machine["python"]}.
Load average before the run: {machine["load_before"]} (other work shares this
machine: treat single figures as noisy; the ratios are measured side by side).

Server: gunicorn, {workers} sync workers × 1 thread, `DEBUG=0`, PostgreSQL
through each process's psycopg pool (`KINSHOP_DB_POOL_SIZE`
{os.environ.get("KINSHOP_DB_POOL_SIZE", "4")}), the local-memory cache
{"(REDIS_URL unset)" if not os.environ.get("REDIS_URL") else "on Redis"}, payment
sandbox on, on 127.0.0.1. Load generator: one
Python process with one thread and one connection per client
(`bench/load.py`), on the same 2 cores. Timed phases last {seconds} s each.

{text}

How each figure is made:

1. A checkout is three requests by one buyer (each client is its own buyer
   with a bearer token): `POST /api/v1/orders` (1 unit of a random SKU among
   the shop's 100, `Idempotency-Key` sent), `POST /orders/{{id}}/payments`
   `{{provider: sandbox}}`, `POST /payments/{{id}}/sandbox-confirm`; latency is
   the whole checkout. Reference: `pgbench -b tpcb-like -c N -j 2 -T {seconds}`
   on a separate `-s 10` database of the same server, run right after.
   CPU per checkout: the CPU time the app server's processes (gunicorn's master
   and workers) and all of PostgreSQL's processes used during the phase
   (`/proc`, `bench/cpu.py`), and the load generator's own, each divided by the
   checkouts; set beside what the machine's cores give one checkout at the
   target of 0.03 × pgbench's TPS.
2. Flash crowd: 32 buyers keep checking out 1 unit of one SKU until each is
   told `out_of_stock`; orders/s counts from the start to the last paid
   checkout. Reference: the same 32 buyers and the same number of checkouts
   ({details["crowd_spread"]["ok"] if details["crowd_spread"] else "?"}) over
   the 100 SKUs. Stock checks, for every SKU of the run: oversell = units on
   live (not cancelled) order lines > initial stock, or stock < 0; mismatch =
   units sold + stock left != initial stock; undersell = the flash SKU has
   stock left although buyers were told `out_of_stock`.
3. Matured lines are built with set-based SQL: completed orders (one line
   each, completed 30 days ago) whose capture postings are copies of what
   `ledger.services.record_capture` wrote for the first of them (see
   `bench/settle.py`), then `VACUUM ANALYZE`. `kinshop.ops.jobs.run_due(now)`
   runs every due job; timed: its settle job (every batch and its commit),
   the other jobs apart (shown in brackets when they took time: the insight
   rollup reads the orders just built); then the ledger health check must
   say balanced. Reference: one `INSERT ... SELECT ... generate_series` of as
   many postings as the job wrote, into a WAL-logged copy of `ledger_posting`
   (`LIKE ... INCLUDING ALL`: same columns, checks and indexes; no foreign keys).
4. `GET /shop/bench-main/` (100 products, one SKU each) against
   `GET /bench/trivial/` (a view returning "ok", through the same middleware;
   bench-only URLconf `bench/urls.py`), same clients, same server.
5. Counted in-process with `CaptureQueriesContext` and Django's test client on
   the bench database (`bench/queries.py`); BEGIN and COMMIT count, as in
   pgbench's 7.
6. `GET /s/<code>` of a sharer's product link, each request without cookies (a
   new visitor: the click is recorded, the answer is a 302 to the product)
   against `GET /bench/trivial/` measured right after, same clients, same server.
7. 64 clients open the share link at once for the phase's length; 5xx answers
   are counted, and the bench database's open connections
   (`pg_stat_activity`) sampled every 0.1 s.
8. Flash sale (campaigns): 500 buyers (BENCH_FLASH_SALE_BUYERS), each with
   their own phone, queue for 64 clients and try once each to buy 1 unit of a
   flash sale of 50 units (BENCH_FLASH_SALE_UNITS)
   (`POST /api/v1/flash-sales/{{id}}/orders`, then pay as in 1.). Sold ÷
   offered = paid units ÷ units (must be 1.00: no unit lost to a race);
   oversell = units the sale counts as taken beyond its units, plus paid ones
   beyond them (must be 0). Orders/s from the start to the last paid one,
   beside the plain checkout's at 32 clients.

Outcomes of each phase (status:code counts):

{outcomes}

Settlement: {details["settle_run"]}
{kept}"""
    )
    print(
        f"\nwritten to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}"
    )


if __name__ == "__main__":
    main()
