"""A real HTTP receiver (http.server on port 0 in a thread) and endpoint helpers."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ucfleet.webhooks import services

SECRET = "receiver-shared-secret-0123456789"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers["x-ucfleet-delivery"]

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-ucfleet-signature", ""))


class Receiver:
    """Records every POST; answers with the scripted statuses in turn, then `default`."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[int] = []
        self.default = 200
        self.delay = 0.0
        self.answer_text = "ok"
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    status = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.received.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                        )
                    )
                text = receiver.answer_text.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:
                    pass  # the sender timed out and left

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> list[Received]:
        """What the receiver accepted (answered 2xx)."""
        return [r for r in self.received if 200 <= r.answered < 300]


@pytest.fixture
def make_receiver() -> Iterator[Callable[[], Receiver]]:
    started: list[Receiver] = []

    def make() -> Receiver:
        receiver = Receiver()
        receiver.thread.start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver(make_receiver) -> Receiver:
    return make_receiver()


@pytest.fixture
def endpoint_for() -> Callable[..., Any]:
    """`endpoint_for(admin, receiver, events=[...], partner=...)`: registered by the service."""

    def make(admin: Any, receiver: Receiver, *, events: Any = ("*",), **fields: Any) -> Any:
        endpoint, _ = services.create_endpoint(
            admin, url=receiver.url, events=list(events), secret=SECRET, **fields
        )
        return endpoint

    return make


@pytest.fixture(autouse=True)
def _quick_back_off(settings):
    """Back-off in fractions of a second, so retries happen within the test."""
    settings.UCFLEET = {
        **settings.UCFLEET,
        "OUTBOX_BACKOFF_SECONDS": 0.2,
        "OUTBOX_BACKOFF_MAX_SECONDS": 0.5,
        "WEBHOOKS_TIMEOUT_SECONDS": 2.0,
    }


def drain(send: Callable[[], int], until: Callable[[], bool], *, seconds: float = 15.0) -> None:
    """Call the sender until `until()` holds; bounded in time."""
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "the outbox was not delivered in time"
        send()
        time.sleep(0.05)
