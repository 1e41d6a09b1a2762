"""Live rooms across app processes, through `kinshop serve`: two uvicorn
servers on their own ports, one PostgreSQL database and one Redis. A message
posted through server A reaches a viewer connected to server B within a
second; a viewer that drops and comes back with Last-Event-ID gets exactly the
events it missed; and one server takes 40 simultaneous connections without
resetting any."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.support import databases
from tests.support.http import call

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("servers")]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-9"
REDIS_URL = os.environ.get("KINSHOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def _server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


class Server:
    def __init__(self, env: dict[str, str], logs: Path, name: str) -> None:
        self.port = _free_port()
        self.log_path = logs / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kinshop", "serve", "--bind", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"kinshop serve exited: {self.log_tail()}")
            with contextlib.suppress(OSError):
                if call(self.port, "GET", "/products", timeout=5).status == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"kinshop serve did not answer: {self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    if not _redis_reachable():
        pytest.skip(f"no Redis at {REDIS_URL}")
    name = f"kinshop_live_{os.getpid()}"
    database_url = databases.migrated_database(_server_url(), name)
    tmp = tmp_path_factory.mktemp("live-servers")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "live-test-secret-key-which-is-long-enough-for-hmac-0123456789",
        "DEBUG": "0",
        "KINSHOP_HTTPS": "0",
        "KINSHOP_VAR_DIR": str(tmp),
        "KINSHOP_MEDIA_ROOT": str(tmp / "media"),
        "KINSHOP_DB_POOL_SIZE": "4",
        "DJANGO_SETTINGS_MODULE": "kinshop.settings",
    }
    env.pop("KINSHOP_TEST_DB", None)
    started: list[Server] = []
    try:
        started.append(Server(env, tmp, "a"))
        started.append(Server(env, tmp, "b"))
        yield started
    finally:
        for server in started:
            server.stop()
        databases.drop_database(_server_url(), name)


def _user(port: int, prefix: str) -> str:
    username = f"{prefix}_{uuid.uuid4().hex[:8]}"
    assert (
        call(port, "POST", "/accounts", {"username": username, "password": PASSWORD}).status == 201
    )
    answer = call(port, "POST", "/auth/tokens", {"username": username, "password": PASSWORD})
    return answer.body["token"]


@pytest.fixture(scope="module")
def live_room(servers):
    a = servers[0]
    keeper = _user(a.port, "keeper")
    handle = f"live{uuid.uuid4().hex[:8]}"
    assert (
        call(a.port, "POST", "/shops", {"handle": handle, "name": "Live shop"}, token=keeper).status
        == 201
    )
    room = call(
        a.port,
        "POST",
        f"/shops/{handle}/live-rooms",
        {"title": "Across processes", "scheduled_at": "2026-12-24T20:00:00+08:00"},
        token=keeper,
    )
    assert room.status == 201, room.body
    assert call(a.port, "POST", f"/live-rooms/{room.body['id']}/start", token=keeper).status == 200
    return room.body["id"]


class Viewer:
    """An EventSource, by hand: one streaming GET, read event by event."""

    def __init__(self, port: int, room_id: int, last_event_id: int | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection.request("GET", f"/api/v1/live-rooms/{room_id}/events", headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")

    def next_event(self, kinds=("message", "status", "pin", "order", "deal")) -> dict:
        while True:
            fields: dict[str, str] = {}
            while True:
                line = self.response.readline().decode()
                if line in ("\n", ""):
                    break
                if not line.startswith(":"):
                    name, _, value = line.rstrip("\n").partition(": ")
                    fields[name] = value
            if line == "":
                raise EOFError("stream closed")
            if fields.get("event") in kinds:
                return {
                    "id": int(fields["id"]),
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }

    def close(self) -> None:
        self.connection.close()


def _say(port: int, room_id: int, text: str, token: str) -> int:
    answer = call(port, "POST", f"/live-rooms/{room_id}/messages", {"text": text}, token=token)
    assert answer.status == 201, answer.body
    return answer.body["id"]


def test_a_message_posted_through_one_process_reaches_a_viewer_of_the_other(servers, live_room):
    a, b = servers
    speaker = _user(a.port, "speaker")
    viewer = Viewer(b.port, live_room)
    try:
        time.sleep(0.3)  # B's subscription is up before the message goes out
        posting = time.monotonic()
        _say(a.port, live_room, "从 A 到 B", speaker)
        answered = time.monotonic()
        event = viewer.next_event()
        took = time.monotonic() - answered
        print(f"post {answered - posting:.3f} s, delivery after the answer {took:.3f} s")
    finally:
        viewer.close()
    assert event["event"] == "message"
    assert event["data"]["text"] == "从 A 到 B"
    # from the commit (the answer to the POST) to the viewer on the other process
    assert took < 1.0, f"took {took:.2f} s"


def test_a_viewer_that_reconnects_gets_the_missed_events_exactly_once(servers, live_room):
    a, b = servers
    speakers = [_user(a.port, f"s{i}") for i in range(5)]
    viewer = Viewer(b.port, live_room)
    time.sleep(0.3)
    _say(a.port, live_room, "before the drop", speakers[0])
    seen = viewer.next_event()
    viewer.close()  # the viewer drops

    for index in range(1, 4):  # three messages while it is away, through both servers
        _say(servers[index % 2].port, live_room, f"missed {index}", speakers[index])

    back = Viewer(b.port, live_room, last_event_id=seen["id"])
    try:
        missed = [back.next_event() for _ in range(3)]
        _say(a.port, live_room, "after coming back", speakers[4])
        after = back.next_event()
    finally:
        back.close()
    assert [e["id"] for e in missed] == [seen["id"] + 1, seen["id"] + 2, seen["id"] + 3]
    assert [e["data"]["text"] for e in missed] == ["missed 1", "missed 2", "missed 3"]
    assert (after["id"], after["data"]["text"]) == (seen["id"] + 4, "after coming back")


def test_kinshop_serve_takes_40_simultaneous_connections_without_a_reset(servers, live_room):
    a = servers[0]
    start = threading.Barrier(40)
    answers: list[object] = []

    def client() -> None:
        start.wait()
        try:
            answers.append(call(a.port, "GET", f"/live-rooms/{live_room}", timeout=30).status)
        except OSError as error:  # ConnectionResetError, refused, timeout
            answers.append(repr(error))

    threads = [threading.Thread(target=client) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [200] * 40
