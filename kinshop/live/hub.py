"""Fan-out of room events to the viewers connected to this process.

Each process keeps one Redis pattern subscription (`kinshop:live:<db>:*`) in a
thread of its own when `REDIS_URL` is set, and hands each event to the event
loops of its local viewers; without Redis, a publish goes straight to the local
viewers. Delivery here is best effort: an event lost or reordered between
processes is fetched from the table by the viewer's stream (streams.py), which
never sends a gap or a duplicate.

Viewer counts are batched: once a second this process writes its own count per
room into a Redis hash (field: this process, value: count and time); one
process per room and second (whoever takes a short Redis key) adds up the
fresh counts and, when the total changed, publishes one `viewers` event; the
same process then sends the `order` events of that room's newly paid orders
(services.announce_paid_orders).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from kinshop.live import rules

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "kinshop:live:"
QUEUE_SIZE = 1000
COUNT_FRESH_SECONDS = 5


@dataclass(eq=False)
class Subscriber:
    """One connected viewer: its loop and queue. A full queue drops what comes
    next; the stream refetches the gap from the table."""

    room_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, event: dict) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(event)


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[int, set[Subscriber]] = defaultdict(set)
        self._reported: dict[int, int] = {}  # room -> count last written/published
        self._peak_writer: Callable[[int, int], None] | None = None
        self._order_announcer: Callable[[list[int]], None] | None = None
        self._started = False
        self.process_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    # ---- viewers ------------------------------------------------------------

    def subscribe(self, room_id: int) -> Subscriber:
        subscriber = Subscriber(room_id=room_id, loop=asyncio.get_running_loop())
        with self._lock:
            self._rooms[room_id].add(subscriber)
        self._start()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            viewers = self._rooms.get(subscriber.room_id)
            if viewers is not None:
                viewers.discard(subscriber)

    def local_count(self, room_id: int) -> int:
        with self._lock:
            return len(self._rooms.get(room_id, ()))

    def viewers_now(self, room_id: int) -> int:
        """Viewers connected to any process (this one's alone without Redis)."""
        client = redis_client()
        if client is None:
            return self.local_count(room_id)
        return _fresh_total(client.hgetall(_count_key(room_id)))

    def set_peak_writer(self, writer: Callable[[int, int], None]) -> None:
        """What records a room's peak concurrent viewers (a conditional UPDATE)."""
        self._peak_writer = writer

    def set_order_announcer(self, announcer: Callable[[list[int]], None]) -> None:
        """What sends the `order` events of rooms' newly paid orders
        (services.announce_paid_orders: a claim by conditional UPDATE, so
        every process may call it). Called each interval for the rooms this
        process serves (with Redis, those whose count it adds up)."""
        self._order_announcer = announcer

    # ---- events -------------------------------------------------------------

    def publish(self, room_id: int, event: dict) -> None:
        """Send an event (already committed, or ephemeral) to every viewer of
        the room on any process. Called after commit."""
        client = redis_client()
        if client is None:
            self.deliver(room_id, event)
            return
        try:
            client.publish(f"{channel_prefix()}{room_id}", json.dumps(event))
        except Exception:  # the event is kept; viewers fetch it on the next one
            log.exception("could not publish a live event to Redis")

    def deliver(self, room_id: int, event: dict) -> None:
        """Hand the event to the room's local viewers: one call into each event
        loop (uvicorn runs one per process) for all of its viewers, not one
        wake-up of the loop per viewer."""
        with self._lock:
            viewers = list(self._rooms.get(room_id, ()))
        if not viewers:
            return
        # Rendered once here for every viewer it goes to (streams send it as is).
        event = {
            **event,
            "frame": rules.sse_frame(
                kind=event["kind"], data=event["data"], event_id=event.get("id")
            ),
        }
        by_loop: dict[asyncio.AbstractEventLoop, list[Subscriber]] = defaultdict(list)
        for subscriber in viewers:
            by_loop[subscriber.loop].append(subscriber)
        for loop, subscribers in by_loop.items():
            with contextlib.suppress(RuntimeError):  # its loop has closed
                loop.call_soon_threadsafe(_offer_all, subscribers, event)

    # ---- the threads ----------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._count_viewers, name="live-viewers", daemon=True).start()
        if redis_client() is not None:
            threading.Thread(target=self._listen, name="live-redis", daemon=True).start()

    def _listen(self) -> None:
        """The process's one Redis subscription, kept up across Redis restarts."""
        while True:
            try:
                client = redis_client(fresh=True)
                assert client is not None
                prefix = channel_prefix()
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(f"{prefix}*")
                for message in pubsub.listen():
                    channel = message["channel"]
                    channel = channel.decode() if isinstance(channel, bytes) else channel
                    room = channel.removeprefix(prefix)
                    if room.isdigit():
                        self.deliver(int(room), json.loads(message["data"]))
            except Exception:
                log.exception("live Redis subscription lost; reconnecting")
                time.sleep(1)

    def _count_viewers(self) -> None:
        while True:
            time.sleep(settings.KINSHOP_LIVE_VIEWERS_INTERVAL)
            try:
                self.report_counts()
            except Exception:
                log.exception("could not count live viewers")

    def report_counts(self) -> None:
        """One round of the batched viewer count (the thread runs it every second)."""
        with self._lock:
            counts = {room: len(viewers) for room, viewers in self._rooms.items()}
            for room, count in counts.items():
                if count == 0:
                    del self._rooms[room]
        client = redis_client()
        served: list[int] = []  # the rooms this process looks after this interval
        for room_id, count in counts.items():
            if client is None:
                if count:
                    served.append(room_id)
                if self._reported.get(room_id) != count:
                    self._reported[room_id] = count
                    self._announce(room_id, count)
                continue
            key = _count_key(room_id)
            client.hset(key, self.process_id, f"{count}:{time.time():.3f}")
            client.expire(key, 60)
            # One process per room and interval adds the counts up and tells everyone.
            if client.set(f"{key}:tick", self.process_id, nx=True, px=900):
                served.append(room_id)
                total = _fresh_total(client.hgetall(key))
                last = client.getset(f"{key}:last", total)
                if last is None or int(last) != total:
                    self._announce(room_id, total)
        if served and self._order_announcer is not None:
            self._order_announcer(served)

    def _announce(self, room_id: int, total: int) -> None:
        self.publish(room_id, {"kind": "viewers", "data": {"viewers": total}})
        if self._peak_writer is not None:
            self._peak_writer(room_id, total)


def _offer_all(subscribers: list[Subscriber], event: dict) -> None:
    for subscriber in subscribers:
        subscriber.offer(event)


def channel_prefix() -> str:
    """The rooms' channels. Redis pub/sub ignores the database number, so two
    deployments (or a test run and a bench) on one Redis with different
    databases would hear each other's rooms: the number is in the channel."""
    client = redis_client()
    db = client.connection_pool.connection_kwargs.get("db", 0) if client is not None else 0
    return f"{CHANNEL_PREFIX}{db}:"


def _count_key(room_id: int) -> str:
    return f"{CHANNEL_PREFIX}viewers:{room_id}"


def _fresh_total(counts: dict) -> int:
    now = time.time()
    total = 0
    for value in counts.values():
        text = value.decode() if isinstance(value, bytes) else value
        count, _, at = text.partition(":")
        if count.isdigit() and now - float(at or 0) < COUNT_FRESH_SECONDS:
            total += int(count)
    return total


_clients: dict[str, object] = {}


def redis_client(*, fresh: bool = False):
    """The process's Redis client (None without REDIS_URL)."""
    url = settings.KINSHOP_REDIS_URL
    if not url:
        return None
    import redis

    if fresh:
        return redis.Redis.from_url(url, health_check_interval=30)
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(url)
    return client


hub = Hub()
