"""The event stream in-process: resuming after Last-Event-ID sends every missed
event once, events overtaken or repeated between processes come out in order
once, and the stream closes after the room ends."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from kinshop.core import clock
from kinshop.live import services, streams
from kinshop.live.hub import hub
from kinshop.live.models import Event
from kinshop.live.tests.conftest import make_viewer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_process(settings, monkeypatch):
    settings.KINSHOP_LIVE_STREAM_SHARED_CONNECTION = True
    settings.KINSHOP_REDIS_URL = ""
    settings.KINSHOP_LIVE_PING_SECONDS = 1
    peaks: list = []
    monkeypatch.setattr(hub, "_peak_writer", lambda room, n: peaks.append((room, n)))


def _say(room_id, viewer, count, start=0):
    for index in range(count):
        with clock.travel(dt.timedelta(seconds=2 * (start + index))):
            services.post_message(user=viewer, room_id=room_id, text=f"m{start + index}")


def _ids(frames):
    return [int(f.split("\n")[0].removeprefix("id: ")) for f in frames if f.startswith("id: ")]


def _collect(room_id, *, after, want, during=None, seconds=5.0):
    """Run the stream of a subscribed viewer until `want` events with ids came
    (or `seconds` passed); `during(subscriber)` runs once the stream is reading."""

    async def run():
        subscriber = hub.subscribe(room_id)
        frames = []
        generator = streams.stream(room_id, after=after, subscriber=subscriber)

        async def read():
            async for chunk in generator:  # a chunk is one write: one frame or more
                frames.extend(frame + "\n\n" for frame in chunk.split("\n\n") if frame)
                if len(_ids(frames)) >= want or ("event: status" in chunk and "ended" in chunk):
                    return

        reader = asyncio.ensure_future(read())
        if during is not None:
            await asyncio.sleep(0.05)
            await during(subscriber)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader, seconds)
        await generator.aclose()
        return frames

    return async_to_sync(run)()


def test_a_reconnecting_viewer_gets_what_it_missed_exactly_once(room):
    viewer = make_viewer("viewer")
    _say(room["id"], viewer, 5)  # events 2..6 (1 is the room going live)

    frames = _collect(room["id"], after=3, want=3)

    assert _ids(frames) == [4, 5, 6]
    assert frames[0] == "retry: 2000\n\n"
    assert '"text":"m2"' in frames[2]


def test_events_overtaken_or_repeated_between_processes_come_out_in_order_once(room):
    viewer = make_viewer("viewer")
    _say(room["id"], viewer, 2)  # events 2, 3

    async def publish_out_of_order(subscriber):
        # three more events are kept; the hub hands over the last first, then
        # the others, then the last again (as two processes' publishes may)
        await sync_to_async(_say)(room["id"], viewer, 3, start=10)
        kept = {
            e.number: {"id": e.number, "kind": e.kind, "data": e.data}
            for e in await sync_to_async(list)(Event.objects.filter(room_id=room["id"]))
        }
        for number in (6, 4, 5, 6, 3):
            hub.deliver(room["id"], kept[number])

    frames = _collect(room["id"], after=1, want=5, during=publish_out_of_order)

    assert _ids(frames) == [2, 3, 4, 5, 6]


def test_viewer_counts_carry_no_id_and_the_stream_ends_with_the_room(room, keeper):
    async def count_then_end(subscriber):
        hub.deliver(room["id"], {"kind": "viewers", "data": {"viewers": 7}})
        await sync_to_async(services.end_room)(user=keeper, room_id=room["id"])
        ended = await sync_to_async(Event.objects.get)(room_id=room["id"], number=2)
        hub.deliver(room["id"], {"id": 2, "kind": ended.kind, "data": ended.data})

    frames = _collect(room["id"], after=1, want=10, during=count_then_end)

    assert 'event: viewers\ndata: {"viewers":7}\n\n' in frames
    assert frames[-1] == 'id: 2\nevent: status\ndata: {"status":"ended"}\n\n'


def test_the_view_answers_404_json_for_an_unknown_room(client):
    answer = client.get("/api/v1/live-rooms/999999/events")
    assert answer.status_code == 404
    assert answer.json()["code"] == "live_room_not_found"


def test_an_ended_room_streams_its_kept_events_and_closes(client, room, keeper, settings):
    services.end_room(user=keeper, room_id=room["id"])
    answer = client.get(f"/api/v1/live-rooms/{room['id']}/events", HTTP_LAST_EVENT_ID="0")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/event-stream"

    async def read():
        return b"".join([chunk async for chunk in answer.streaming_content])

    body = async_to_sync(read)().decode()
    assert _ids(body.split("\n\n")) == [1, 2]


def test_over_wsgi_a_live_room_sends_what_is_kept_and_closes(client, room):
    answer = client.get(f"/api/v1/live-rooms/{room['id']}/events")
    assert answer.status_code == 200

    async def read():
        return b"".join([chunk async for chunk in answer.streaming_content])

    assert async_to_sync(read)().decode() == "retry: 2000\n\n"
    assert client.post(f"/api/v1/live-rooms/{room['id']}/events").status_code == 405


def test_events_waiting_together_go_out_in_one_write(room, settings):
    settings.KINSHOP_LIVE_PING_SECONDS = 60  # no ping while the events are made
    viewer = make_viewer("viewer")

    async def three_at_once(subscriber):
        # three events kept and handed over before the stream reads any of them
        await sync_to_async(_say)(room["id"], viewer, 3)
        for event in await sync_to_async(list)(
            Event.objects.filter(room_id=room["id"], number__gt=1).order_by("number")
        ):
            subscriber.offer({"id": event.number, "kind": event.kind, "data": event.data})

    async def run():
        subscriber = hub.subscribe(room["id"])
        generator = streams.stream(room["id"], after=1, subscriber=subscriber)
        chunks = [await generator.__anext__() for _ in range(2)]  # retry, viewers
        waiting = asyncio.ensure_future(generator.__anext__())  # on the hub's queue
        await asyncio.sleep(0.2)
        await three_at_once(subscriber)
        chunk = await asyncio.wait_for(waiting, 5)
        while not _ids(chunk.split("\n\n")):  # a `viewers` count of the hub's thread
            chunk = await asyncio.wait_for(generator.__anext__(), 5)
        chunks.append(chunk)
        await generator.aclose()
        return chunks

    chunks = async_to_sync(run)()
    assert _ids(chunks[-1].split("\n\n")) == [2, 3, 4]
