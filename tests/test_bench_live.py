"""The live bench's client and measurement (bench/live.py) against a small
in-process SSE server: every viewer's delivery of every message is counted
with its latency, a viewer the server never writes to counts as late, and the
step sizes and the RSS of a process tree come out as the bench uses them. No
database, no Redis; a few seconds."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
import time

from bench import live


class SseServer:
    """Writes each published text as a `message` event to every connection;
    `skip` connections (the last ones to connect) never get one."""

    def __init__(self, skip: int = 0) -> None:
        self.writers: list[asyncio.StreamWriter] = []
        self.skip = skip

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nretry: 2000\n\n")
        self.writers.append(writer)

    def publish(self, text: str) -> None:
        frame = f'id: 1\nevent: message\ndata: {{"text":"{text}"}}\n\n'.encode()
        for writer in self.writers[: len(self.writers) - self.skip or None]:
            # split in two writes: a frame may arrive in pieces
            writer.write(frame[:9])
            writer.write(frame[9:])


class Publisher:
    def __init__(self, server: SseServer) -> None:
        self.server = server
        self.outcomes: dict[str, int] = {}

    async def send(self, step: live.Step) -> None:
        text, stamp = live.stamped_text()
        step.stamps.add(stamp)
        await asyncio.sleep(0.01)  # the server's work before it writes
        self.server.publish(text)
        self.outcomes["ok"] = self.outcomes.get("ok", 0) + 1


def _run(skip: int) -> list[dict]:
    async def main() -> list[dict]:
        server = SseServer(skip=skip)
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        audience = live.Audience(
            "127.0.0.1", port, b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n", b"retry: 2000"
        )
        loop = asyncio.get_running_loop()
        try:
            return await live.measure(
                audience,
                Publisher(server),
                [3, 10],
                rate=10,
                seconds=0.5,
                grace=0.5,
                deadline=loop.time() + 30,
                rss=lambda: live._rss_kib(os.getpid()),
                cpu=lambda: live._cpu_seconds(os.getpid()),
                stop_when_late=False,
            )
        finally:
            await audience.close()
            listening.close()
            await listening.wait_closed()

    # In a thread of its own: a test before this one on the same worker may
    # leave an event loop running in this thread (Playwright's sync API does).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def test_every_viewer_gets_every_message_and_each_delivery_is_timed():
    steps = _run(skip=0)
    assert [(s["viewers"], s["connected"], s["messages"]) for s in steps] == [
        (3, 3, 5),
        (10, 10, 5),
    ]
    for step in steps:
        assert step["deliveries"] == step["expected"] == step["viewers"] * 5
        assert step["late_or_lost"] == 0
        assert 10 <= step["p50_ms"] <= step["p99_ms"] < 1000
        assert step["rss_mib"] > 0
        assert step["cpu_ms_per_1000"] >= 0


def test_a_viewer_left_without_the_message_counts_as_late():
    steps = _run(skip=1)
    assert [s["late_or_lost"] for s in steps] == [5, 5]
    assert steps[-1]["p99_ms"] == float("inf")  # 5 of 50 deliveries never came
    assert live.best(steps) is None


def test_the_steps_end_at_the_maximum(monkeypatch):
    monkeypatch.setenv("BENCH_LIVE_VIEWERS_MAX", "1500")
    monkeypatch.delenv("BENCH_LIVE_STEPS", raising=False)
    assert live.steps() == [100, 500, 1000, 1500]


def test_the_cpu_time_of_a_process_tree_grows_with_its_work():
    # A process of its own, whose tree is only itself (this worker's tree holds
    # whatever earlier tests started and may end at any moment).
    busy = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nwhile True:\n    sum(range(10000))"]
    )
    try:
        time.sleep(0.3)
        before = live._cpu_seconds(busy.pid)
        time.sleep(0.5)
        assert live._cpu_seconds(busy.pid) - before >= 0.1
    finally:
        busy.kill()
        busy.wait()
