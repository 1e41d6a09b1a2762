"""Live rooms at scale: how many viewers one live room's event streams serve
with a message delivered to each within a second (phase 9 of `make bench`;
`make bench-live` runs it alone; bench/live.sh starts the server).

    python -m bench.live setup              # a shop, a room on air, chatters (live_seed.json)
    python -m bench.live run --port P --server-pid PID
    python -m bench.live record             # the "Live rooms" section of RESULTS.md

`run` connects SSE viewers to `GET /api/v1/live-rooms/{id}/events` of
`kinshop serve` in steps (BENCH_LIVE_STEPS, up to BENCH_LIVE_VIEWERS_MAX), all
of them raw asyncio streams in this one process. At each step the chatters post
BENCH_LIVE_RATE messages a second for BENCH_LIVE_STEP_SECONDS through the API
(`POST /live-rooms/{id}/messages`, one chatter at most once a second); each
message's text carries the time it was sent, and every viewer notes when the
`message` event reaches it. Latency = received - sent, for every (viewer,
message) pair; a pair not delivered within BENCH_LIVE_GRACE seconds after the
last message counts as late (over 1 s). The steps stop at the first whose p99
is over 1 s, or when the phase's time cap (BENCH_LIVE_SECONDS) would be passed.
Memory per viewer: the RSS of the server's processes (the uvicorn supervisor
and its workers) with the step's viewers connected, minus the RSS before any,
÷ viewers.

Reference, in the same run with the same client code: bare Redis pub/sub. The
same numbers of subscribers (one raw RESP connection each, `SUBSCRIBE` to one
channel) and one publisher (`PUBLISH` of an event of the same size, at the same
rate) on the same Redis the server uses: Redis (C, one thread) writes every
message to N sockets, as the Kinshop server writes every event to N streams.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import load, percentile, save

STAMP = re.compile(rb"bench-t=(\d+\.\d{6})")
CHATTERS = 9  # one warms the server up; the others take turns, each under 1 a second
LATE = math.inf  # a delivery that never came within the grace


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def steps() -> list[int]:
    top = _env_int("BENCH_LIVE_VIEWERS_MAX", 5000)
    given = os.environ.get("BENCH_LIVE_STEPS", "100,500,1000,2000,3000,4000,5000,6000,8000,10000")
    chosen = [int(step) for step in given.split(",") if step.strip() and int(step) <= top]
    if not chosen or chosen[-1] != top:
        chosen.append(top)
    return sorted(set(chosen))


# ---- set-up (Django) ---------------------------------------------------------------


def setup() -> None:
    from bench.common import setup_django

    setup_django()
    import datetime as dt

    from django.db import transaction

    from kinshop import testing
    from kinshop.accounts import services as accounts
    from kinshop.core import clock
    from kinshop.live import services as live

    with transaction.atomic():
        keeper = testing.make_user(testing.unique("live-keeper"))
        shop = testing.make_shop(owner=keeper, handle=testing.unique("bench-live-"))
        room = live.create_room(
            user=keeper,
            shop=shop,
            title="Bench live room",
            scheduled_at=clock.now() + dt.timedelta(minutes=1),
        )
        live.start_room(user=keeper, room_id=room.pk)
        tokens = []
        for _ in range(CHATTERS):
            user = testing.make_user(testing.unique("live-chatter"))
            tokens.append(accounts.issue_token(user=user, name="bench")[1])
    save("live_seed", {"room_id": room.pk, "tokens": tokens})
    print(f"  live room {room.pk} on air, {len(tokens)} chatters")


# ---- measuring (asyncio, no Django) -------------------------------------------------


@dataclass
class Step:
    """What one step collects while its messages fly."""

    stamps: set[bytes] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    first_sent: float = 0.0
    last_received: float = 0.0


class Audience:
    """N connections that each read a stream and note every stamped message."""

    def __init__(self, host: str, port: int, request: bytes, ready: bytes) -> None:
        self.host, self.port, self.request, self.ready = host, port, request, ready
        self.tasks: list[asyncio.Task] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.step = Step()
        self.failed_connects = 0
        self.dropped = 0

    async def grow(self, target: int, *, parallel: int = 100, deadline: float) -> None:
        gate = asyncio.Semaphore(parallel)

        async def one() -> None:
            async with gate:
                if time.monotonic() > deadline:
                    self.failed_connects += 1
                    return
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(self.host, self.port, limit=1 << 20), 30
                    )
                    writer.write(self.request)
                    head = await asyncio.wait_for(reader.readuntil(self.ready), 30)
                except (
                    OSError,
                    TimeoutError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                ):
                    self.failed_connects += 1
                    return
                self.writers.append(writer)
                self.tasks.append(asyncio.create_task(self.read(reader, head)))

        await asyncio.gather(*(one() for _ in range(target - len(self.writers))))

    async def read(self, reader: asyncio.StreamReader, head: bytes) -> None:
        pending = head
        while True:
            try:
                chunk = await reader.read(1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self.dropped += 1
                return
            now = time.time()
            data = pending + chunk
            cut = data.rfind(b"\n") + 1
            step = self.step
            for match in STAMP.finditer(data, 0, cut):
                stamp = match.group(1)
                if stamp in step.stamps:
                    step.latencies.append(now - float(stamp))
                    step.last_received = now
            pending = data[cut:]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for writer in self.writers:
            writer.close()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        self.writers.clear()


def stamped_text() -> tuple[str, bytes]:
    stamp = f"{time.time():.6f}"
    return f"bench-t={stamp}", stamp.encode()


async def _http_post(port: int, path: str, token: str, body: dict) -> int:
    payload = json.dumps(body).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            + payload
        )
        status_line = await asyncio.wait_for(reader.readline(), 30)
        await asyncio.wait_for(reader.read(), 30)
        return int(status_line.split()[1]) if status_line else 0
    finally:
        writer.close()


class KinshopPublisher:
    """Chat messages through the API, round-robin over the chatters."""

    def __init__(self, port: int, room_id: int, tokens: list[str]) -> None:
        self.port, self.room_id, self.tokens = port, room_id, tokens
        self.turn = 0
        self.outcomes: dict[str, int] = {}

    async def send(self, step: Step) -> None:
        text, stamp = stamped_text()
        step.stamps.add(stamp)
        token = self.tokens[self.turn % len(self.tokens)]
        self.turn += 1
        try:
            status = await _http_post(
                self.port, f"/api/v1/live-rooms/{self.room_id}/messages", token, {"text": text}
            )
        except (OSError, TimeoutError):
            status = 0
        key = "ok" if status == 201 else f"post:{status}"
        self.outcomes[key] = self.outcomes.get(key, 0) + 1


class RedisPublisher:
    """PUBLISH of a payload the size of the room's message event."""

    def __init__(self, host: str, port: int, channel: str) -> None:
        self.host, self.port, self.channel = host, port, channel
        self.connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.outcomes: dict[str, int] = {}
        # The sends are tasks on one connection: one PUBLISH and its answer at a
        # time (a slow answer would otherwise have two readers on one stream).
        self.lock = asyncio.Lock()

    async def send(self, step: Step) -> None:
        async with self.lock:
            await self._send(step)

    async def _send(self, step: Step) -> None:
        if self.connection is None:
            self.connection = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.connection
        text, stamp = stamped_text()
        step.stamps.add(stamp)
        event = json.dumps(
            {
                "id": 1,
                "kind": "message",
                "data": {"id": 1, "author": "live-chatter-x", "author_id": 1, "text": text},
            }
        ).encode()
        writer.write(_resp(b"PUBLISH", self.channel.encode(), event))
        answer = await reader.readline()
        key = "ok" if answer.startswith(b":") else "publish:error"
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    async def close(self) -> None:
        if self.connection is not None:
            self.connection[1].close()


def _resp(*parts: bytes) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def _tree(root_pid: int) -> list[int]:
    """A process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_kib(root_pid: int) -> int:
    """RSS of a process and all its descendants (KiB)."""
    total = 0
    for pid in _tree(root_pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def _cpu_seconds(root_pid: int) -> float:
    """CPU time (user + system) a process and its live descendants have used so far."""
    ticks = 0
    for pid in _tree(root_pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure(
    audience: Audience,
    publisher,
    sizes: list[int],
    *,
    rate: float,
    seconds: float,
    grace: float,
    deadline: float,
    rss=None,
    cpu=None,
    stop_when_late: bool = True,
) -> list[dict]:
    results = []
    baseline = rss() if rss else None
    connects_per_second = 150.0  # until the first step has measured it
    for size in sizes:
        # A step: ramp up, let the ramp settle, then publish at the fixed rate.
        adding = size - len(audience.writers)
        step_cost = seconds + grace + 2 + adding / connects_per_second
        if results and time.monotonic() + step_cost > deadline:
            results.append({"viewers": size, "skipped": "time cap"})
            break
        started = time.monotonic()
        await audience.grow(size, deadline=deadline)
        connected = len(audience.writers) - audience.dropped
        ramp = time.monotonic() - started
        connects_per_second = max(20.0, adding / max(ramp, 0.01))
        await asyncio.sleep(1.0)
        memory = rss() if rss else None
        step = audience.step = Step()
        step.first_sent = time.time()
        cpu_before = cpu() if cpu else None
        sends = []
        count = max(1, round(rate * seconds))
        begin = time.monotonic()
        for number in range(count):
            await asyncio.sleep(max(0.0, begin + number / rate - time.monotonic()))
            sends.append(asyncio.create_task(publisher.send(step)))
        await asyncio.gather(*sends)
        expected = connected * len(step.stamps)
        wait_until = time.monotonic() + grace
        while len(step.latencies) < expected and time.monotonic() < wait_until:
            await asyncio.sleep(0.05)
        got = list(step.latencies)
        cpu_used = cpu() - cpu_before if cpu and cpu_before is not None else None
        late = max(0, expected - len(got))
        values = got + [LATE] * late
        span = max(1e-9, (step.last_received or time.time()) - step.first_sent)
        result = {
            "viewers": size,
            "connected": connected,
            "failed_connects": audience.failed_connects,
            "ramp_seconds": round(ramp, 2),
            "messages": len(step.stamps),
            "deliveries": len(got),
            "expected": expected,
            "late_or_lost": late,
            "p50_ms": percentile(values, 0.50) * 1000,
            "p99_ms": percentile(values, 0.99) * 1000,
            "max_ms": max(got, default=0) * 1000,
            "delivered_per_second": len(got) / span,
            "outcomes": dict(publisher.outcomes),
        }
        if memory is not None and baseline is not None:
            result["rss_mib"] = round(memory / 1024, 1)
            result["kib_per_viewer"] = round((memory - baseline) / max(1, connected), 1)
        if cpu_used is not None:
            # The server's CPU while it delivered the step's messages (and the
            # grace after): less at the mercy of the machine's other work than
            # the latencies are.
            result["cpu_ms_per_1000"] = round(cpu_used * 1e6 / max(1, len(got)), 1)
        results.append(result)
        print(
            f"  {size:>6} viewers ({connected} connected, ramp {ramp:.1f} s): "
            f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
            f"{result['delivered_per_second']:.0f} deliveries/s, late {late}"
            + (f", {result['kib_per_viewer']} KiB/viewer" if "kib_per_viewer" in result else "")
            + (
                f", server CPU {result['cpu_ms_per_1000']} ms per 1000 deliveries"
                if "cpu_ms_per_1000" in result
                else ""
            ),
            flush=True,
        )
        if connected < size or (stop_when_late and result["p99_ms"] > 1000):
            break
    return results


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _redis_address() -> tuple[str, int, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(os.environ["REDIS_URL"])
    db = parts.path.strip("/") or "0"
    return parts.hostname or "127.0.0.1", parts.port or 6379, int(db)


async def run(port: int, server_pid: int) -> dict:
    seed = load("live_seed")
    limit = raise_fd_limit()
    sizes = steps()
    if sizes[-1] + 64 > limit:
        sizes = [size for size in sizes if size + 64 <= limit]
        print(f"  file descriptors: {limit}; steps cut to {sizes}")
    rate = _env_float("BENCH_LIVE_RATE", 2)
    seconds = _env_float("BENCH_LIVE_STEP_SECONDS", 4)
    grace = _env_float("BENCH_LIVE_GRACE", 3)
    cap = _env_float("BENCH_LIVE_SECONDS", 150)
    started = time.monotonic()
    room_id = seed["room_id"]

    # The reference first: it is quick and its steps are known (all of them);
    # Kinshop then has the rest of the time cap.
    host, redis_port, db = _redis_address()
    channel = f"kinshop:bench:{db}:{os.getpid()}"
    print(f"  reference: bare Redis pub/sub, channel {channel}")
    subscribers = Audience(
        host, redis_port, _resp(b"SUBSCRIBE", channel.encode()), channel.encode() + b"\r\n:1\r\n"
    )
    publisher = RedisPublisher(host, redis_port, channel)
    reference = await measure(
        subscribers,
        publisher,
        sizes,
        rate=rate,
        seconds=seconds,
        grace=grace,
        deadline=started + cap * 0.4,
        stop_when_late=False,
    )
    await subscribers.close()
    await publisher.close()

    print(f"  Kinshop: room {room_id}, {rate:g} messages/s for {seconds:g} s per step")
    viewers = Audience(
        "127.0.0.1",
        port,
        f"GET /api/v1/live-rooms/{room_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Accept: text/event-stream\r\n\r\n".encode(),
        b"retry: 2000",
    )
    # Every worker imports and fills its caches before the RSS before any viewer is read.
    warm = KinshopPublisher(port, room_id, seed["tokens"][-1:])
    await viewers.grow(20, deadline=time.monotonic() + 30)
    await warm.send(viewers.step)
    await asyncio.sleep(1.5)
    await viewers.close()
    viewers.failed_connects = viewers.dropped = 0
    await asyncio.sleep(0.5)
    kinshop = await measure(
        viewers,
        KinshopPublisher(port, room_id, seed["tokens"][:-1]),
        sizes,
        rate=rate,
        seconds=seconds,
        grace=grace,
        deadline=started + cap,
        rss=lambda: _rss_kib(server_pid),
        cpu=lambda: _cpu_seconds(server_pid),
    )
    await viewers.close()
    result = {
        "rate": rate,
        "step_seconds": seconds,
        "grace": grace,
        "fd_limit": limit,
        "kinshop": kinshop,
        "reference": reference,
        "seconds": round(time.monotonic() - started, 1),
        "workers": os.environ.get("BENCH_LIVE_WORKERS", "?"),
    }
    return result


def _delivered(step: dict) -> float:
    return step["delivered_per_second"]


def best(steps_: list[dict]) -> dict | None:
    """The largest step whose p99 was within a second (and every viewer connected)."""
    good = [
        step
        for step in steps_
        if "skipped" not in step and step["p99_ms"] <= 1000 and step["connected"] >= step["viewers"]
    ]
    return good[-1] if good else None


def summary(result: dict) -> dict:
    top = best(result["kinshop"])
    same = None
    if top is not None:
        same = next(
            (
                s
                for s in result["reference"]
                if s.get("viewers") == top["viewers"] and "p99_ms" in s
            ),
            None,
        )
    return {"kinshop": top, "reference": same}


# ---- RESULTS.md ------------------------------------------------------------------

START, END = "<!-- live:start -->", "<!-- live:end -->"


def section() -> str:
    result = load("live")
    both = summary(result)
    top, same = both["kinshop"], both["reference"]
    lines = [
        START,
        "## Live rooms",
        "",
        f"`make bench-live` (or phase 9 of `make bench`) on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `kinshop serve --workers "
        f"{result['workers']}` (uvicorn) with REDIS_URL set (the Redis hub), one room on air, "
        f"{result['rate']:g} chat messages a second through the API for "
        f"{result['step_seconds']:g} s per step; every viewer is an SSE connection of one asyncio "
        f"client process. Load average at the start: {os.environ.get('BENCH_LIVE_LOAD', '?')}.",
        "",
    ]
    if top is None:
        lines.append("No step had a p99 within 1 s.")
    else:
        ratio = f"{top['p99_ms'] / same['p99_ms']:.1f}×" if same and same["p99_ms"] else "n/a"
        lines += [
            f"Largest room with p99 ≤ 1 s: **{top['viewers']} viewers** (p50 "
            f"{top['p50_ms']:.0f} ms, p99 {top['p99_ms']:.0f} ms, "
            f"{top['delivered_per_second']:.0f} messages/s delivered, "
            f"{top.get('kib_per_viewer', '?')} KiB of server RSS per viewer). "
            + (
                f"Bare Redis pub/sub to as many subscribers: p99 {same['p99_ms']:.0f} ms "
                f"(Kinshop's p99 is {ratio} Redis's)."
                if same
                else "Bare Redis pub/sub was not measured at that size."
            ),
        ]
    lines += [
        "",
        "| viewers | Kinshop p50 / p99 | delivered/s | late | server RSS, per viewer "
        "| server CPU per 1000 deliveries | Redis pub/sub p50 / p99 | ratio (p99) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    reference = {s["viewers"]: s for s in result["reference"] if "p99_ms" in s}
    measured = {s["viewers"]: s for s in result["kinshop"]}
    for size in sorted(set(reference) | set(measured)):
        step, ref = measured.get(size), reference.get(size)
        if step is None or "skipped" in step:
            why = step["skipped"] if step else "a smaller room was already late"
            redis = f"{ref['p50_ms']:.1f} / {ref['p99_ms']:.1f} ms" if ref else "-"
            lines.append(f"| {size} | not run ({why}) | | | | | {redis} | - |")
            continue
        redis = f"{ref['p50_ms']:.1f} / {ref['p99_ms']:.1f} ms" if ref else "-"
        ratio = f"{step['p99_ms'] / ref['p99_ms']:.1f}×" if ref and ref["p99_ms"] else "-"
        cpu = f"{step['cpu_ms_per_1000']} ms" if "cpu_ms_per_1000" in step else "?"
        lines.append(
            f"| {step['connected']} | {step['p50_ms']:.0f} / {step['p99_ms']:.0f} ms "
            f"| {step['delivered_per_second']:.0f} | {step['late_or_lost']} "
            f"| {step.get('rss_mib', '?')} MiB, {step.get('kib_per_viewer', '?')} KiB "
            f"| {cpu} | {redis} | {ratio} |"
        )
    most = max((s for s in result["kinshop"] if "p99_ms" in s), key=_delivered, default=None)
    most_ref = max((s for s in result["reference"] if "p99_ms" in s), key=_delivered, default=None)
    if most and most_ref:
        lines += [
            "",
            f"Most messages delivered a second: Kinshop {most['delivered_per_second']:.0f} "
            f"({most['viewers']} viewers, p99 {most['p99_ms']:.0f} ms), bare Redis "
            f"{most_ref['delivered_per_second']:.0f} ({most_ref['viewers']} subscribers, p99 "
            f"{most_ref['p99_ms']:.0f} ms): "
            f"{most['delivered_per_second'] / most_ref['delivered_per_second']:.2f} of Redis's.",
        ]
    lines += [
        "",
        "Latency: the message's text carries the time its `POST` was sent; each viewer "
        "notes when the `message` event arrives (one clock: the same machine). A viewer that "
        f"had not received it {result['grace']:g} s after the step's last message counts as "
        "late (beyond 1 s). The reference has the same client code read `SUBSCRIBE` pushes "
        "of a `PUBLISH` of the same size from the same Redis: N sockets written by Redis as "
        "by Kinshop, without the API call, the database or Python on the server side. "
        "Server RSS: the supervisor and its workers, with the viewers connected, minus "
        "before any connected, ÷ viewers. Server CPU: user + system time of the same "
        "processes from the step's first message to the end of its grace, ÷ deliveries "
        "(the cost of a delivery, less at the mercy of the machine's other work than the "
        "latencies).",
        f"Steps and the time cap: BENCH_LIVE_VIEWERS_MAX, BENCH_LIVE_STEPS, BENCH_LIVE_RATE, "
        f"BENCH_LIVE_SECONDS (this run: {result['seconds']} s).",
        END,
    ]
    return "\n".join(lines) + "\n"


def record() -> None:
    from bench.report import RESULTS

    text = RESULTS.read_text() if RESULTS.exists() else ""
    new = section()
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + new + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + new
    RESULTS.write_text(text)
    print(new)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.live")
    parser.add_argument("command", choices=["setup", "run", "record"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--server-pid", type=int)
    args = parser.parse_args(argv)
    if args.command == "setup":
        setup()
    elif args.command == "run":
        save("live", asyncio.run(run(args.port, args.server_pid)))
    else:
        record()


if __name__ == "__main__":
    main(sys.argv[1:])
