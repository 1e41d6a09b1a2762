"""`live_events`: a room's Server-Sent Events, from an async view under ASGI.

A viewer subscribes to this process's hub first, then reads what it missed
from the table (after `Last-Event-ID`), then takes what the hub hands it.
Every kept event has the room's next id, and ids commit in order (services.
_record_event), so the stream keeps one rule: send id n only right after
n - 1. An event that arrives early (another process's publish overtook an
earlier one, or the queue was full) makes the stream fetch the ids in between
from the table first; one that arrives late, or twice, is dropped.
`viewers` events are not kept (a count, not history) and carry no id.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpResponse, StreamingHttpResponse

from kinshop.live import queries, rules, services
from kinshop.live.hub import Subscriber, hub
from kinshop.live.models import LiveRoom


def _db(function):
    """Run a read or write of the stream in a worker thread, on a connection it
    gives back (to the pool) when done: a stream lasts minutes and must not
    hold one meanwhile."""

    def call(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            from django.db import connection

            if not connection.in_atomic_block:
                connection.close()

    return sync_to_async(call, thread_sensitive=False)


def _room_state(room_id: int) -> tuple[str, int] | None:
    room = queries.room(room_id)
    return None if room is None else (room.status, room.last_event_id)


def _error(status: int, code: str, message: str, **headers: str) -> HttpResponse:
    return HttpResponse(
        json.dumps({"code": code, "message": message}),
        status=status,
        content_type="application/json",
        headers=headers,
    )


async def live_events(request, room_id: str):  # the path as given: checked here
    room = rules.parse_last_event_id(room_id)  # the same shape: a positive 64-bit id
    if room is None or room < 1 or not room_id.isdigit():
        return _error(422, "invalid_input", "room_id: a live room's id is a positive integer.")
    if request.method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", "Use GET.", Allow="GET")
    state = await _db_or_test(_room_state)(room)
    if state is None:
        return _error(404, "live_room_not_found", "No such live room.")
    status, last_id = state
    resume = rules.parse_last_event_id(
        request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    )
    user = await request.auser() if hasattr(request, "auser") else None
    await _db_or_test(services.record_visit)(
        room_id=room, visitor_key=getattr(request, "device_id", ""), user=user
    )
    # Under WSGI (runserver, the test client) a response cannot stream as events
    # happen: it sends what is kept and closes, and the client comes back with
    # Last-Event-ID (served by `kinshop serve`, ASGI, it streams).
    streams_live = status != LiveRoom.Status.ENDED and "wsgi.version" not in request.META
    subscriber = hub.subscribe(room) if streams_live else None
    start = min(resume, last_id) if resume is not None else last_id
    response = StreamingHttpResponse(
        stream(room, after=start, subscriber=subscriber), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy passes each event on at once
    return response


async def stream(room_id: int, *, after: int, subscriber: Subscriber | None) -> AsyncIterator[str]:
    """The events of a room after id `after`, then as they happen, until the
    room ends or KINSHOP_LIVE_STREAM_SECONDS pass (the browser reconnects with
    Last-Event-ID and loses nothing)."""
    fetch = _db_or_test(queries.events_after)
    deadline = time.monotonic() + settings.KINSHOP_LIVE_STREAM_SECONDS
    sent = after
    try:
        yield "retry: 2000\n\n"
        if subscriber is not None:
            yield rules.sse_frame(kind="viewers", data={"viewers": hub.local_count(room_id)})
        while True:  # what was missed, page by page
            missed = await fetch(room_id, sent)
            for event in missed:
                sent = event["number"]
                yield rules.sse_frame(kind=event["kind"], data=event["data"], event_id=sent)
                if _ends(event):
                    return
            if len(missed) < 500:
                break
        if subscriber is None:
            return
        queue = subscriber.queue
        while (left := deadline - time.monotonic()) > 0:
            try:
                async with asyncio.timeout(min(left, settings.KINSHOP_LIVE_PING_SECONDS)):
                    event = await queue.get()
            except TimeoutError:
                yield ": ping\n\n"
                continue
            # What is already waiting goes out in the same write (a busy room
            # costs one send per viewer per burst, not per event).
            frames: list[str] = []
            ended = False
            while True:
                number = event.get("id")
                if number is None:  # viewers: a count, not kept
                    frames.append(
                        event.get("frame")
                        or rules.sse_frame(kind=event["kind"], data=event["data"])
                    )
                elif number > sent:  # else already sent (from the table, or twice)
                    for kept in (
                        await fetch(room_id, sent, up_to=number)
                        if number > sent + 1
                        else [event_as_kept(event)]
                    ):
                        sent = kept["number"]
                        frames.append(
                            kept.get("frame")
                            or rules.sse_frame(kind=kept["kind"], data=kept["data"], event_id=sent)
                        )
                        if _ends(kept):
                            ended = True
                            break
                if ended or queue.empty():
                    break
                event = queue.get_nowait()
            if frames:
                yield "".join(frames)
            if ended:
                return
    finally:
        if subscriber is not None:
            hub.unsubscribe(subscriber)


def event_as_kept(event: dict) -> dict:
    """A published event as the table's rows read (with the frame the hub rendered)."""
    kept = {"number": event["id"], "kind": event["kind"], "data": event["data"]}
    if "frame" in event:
        kept["frame"] = event["frame"]
    return kept


def _ends(event: dict) -> bool:
    return event["kind"] == "status" and event["data"].get("status") == LiveRoom.Status.ENDED


def _db_or_test(function):
    """`_db`, except in the test suite's in-process runs, where the test's own
    connection (and its transaction) must serve the stream's reads."""
    if settings.KINSHOP_LIVE_STREAM_SHARED_CONNECTION:
        return sync_to_async(function, thread_sensitive=True)
    return _db(function)
