"""A small HTTP/1.1 server on asyncio that runs a WSGI application in its event loop.

Why not the standard library's `wsgiref`: it spends ~0.3 ms of CPU per request on a thread
and its header parser, ten times what the simulator's own work costs (bench/simulator.py);
a fleet of drivers polling every 0.2 s needs thousands of answers a second. Here a
connection costs no thread, kept-alive connections are served in turn, and the application
(in-memory work under one lock, never blocking) is called directly from the loop, from an
asyncio protocol: no task, no awaits and no timer per request.

Only what the drivers and tests need: Content-Length bodies (no chunked uploads),
`Expect: 100-continue`, keep-alive, limits on the request line, headers, body and idle time.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

log = logging.getLogger("ucfleet.simulator.http")

MAX_LINE = 16 * 1024
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024  # read up to this much; the application sets its own, lower limit
IDLE_SECONDS = 60.0  # a connection silent this long (also mid-request) is closed

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# subscribe(wake) -> what stops the subscription, or None when the event happened already
Subscribe = Callable[[Callable[[], None]], Callable[[], None] | None]


class BadHTTP(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Http11Server:
    def __init__(self, app: WSGIApp, *, host: str, port: int, verbose: bool = False) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.verbose = verbose
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen; the port actually bound (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, backlog=1024
        )
        return self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        """Stop listening; connections still open end with the event loop."""
        if self._server is not None:
            self._server.close()

    def answer(self, request: _Request, *, app: WSGIApp | None = None) -> bytes | _Held:
        """The whole answer to one parsed request, or `_Held` when the application asked to
        answer it later (then `app` is the application that answers it)."""
        holds: list[tuple[float, Subscribe, WSGIApp]] = []
        status, response_headers, payload = self._call_app(
            app or self.app,
            request.method,
            request.target,
            request.fields,
            request.body,
            hold=None if app else lambda *held: holds.append(held),
        )
        if holds:
            return _Held(self, request, *holds[-1])
        head = [f"HTTP/1.1 {status}"]
        head += [f"{name}: {value}" for name, value in response_headers]
        head.append(f"Connection: {'keep-alive' if request.keep_alive else 'close'}")
        if self.verbose:
            log.info("%s %s -> %s", request.method, request.target, status.split(" ", 1)[0])
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload

    def _call_app(
        self,
        app: WSGIApp,
        method: str,
        target: str,
        fields: dict[str, str],
        body: bytes,
        *,
        hold: Callable[[float, Subscribe, WSGIApp], None] | None,
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method.upper(),
            "SCRIPT_NAME": "",
            "PATH_INFO": urllib.parse.unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "CONTENT_TYPE": fields.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": self.host,
            "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "ucfleet.raw_path": path,  # before decoding: an instance id may hold "%2F"
        }
        if hold is not None:
            # hold(seconds, subscribe, later): `later` (a WSGI application) answers this
            # request when `subscribe(wake)`'s event calls wake() (from any thread) or after
            # `seconds`, whichever is first; subscribe returns None when the event has
            # happened already. What the application answers now is dropped.
            environ["ucfleet.hold"] = hold
        for name, value in fields.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: None

        payload = b"".join(app(environ, start_response))
        return answer["status"], answer["headers"], payload


def _error_answer(status: int, message: str) -> bytes:
    reasons = {400: "Bad Request", 411: "Length Required", 413: "Payload Too Large"}
    reason = reasons.get(status, "Request Header Fields Too Large")
    payload = ('{"error": "' + message + '"}').encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )


class _Held:
    """A request whose answer waits for an event or a timeout, whichever comes first; then
    the application's `later` answers it."""

    def __init__(
        self,
        server: Http11Server,
        request: _Request,
        seconds: float,
        subscribe: Subscribe,
        later: WSGIApp,
    ) -> None:
        self.server, self.request = server, request
        self.seconds, self.subscribe, self.later = seconds, subscribe, later
        self.timer: asyncio.TimerHandle | None = None
        self.unsubscribe: Callable[[], None] | None = None
        self.done = False

    def start(self, send: Callable[[bytes], object]) -> None:
        loop = asyncio.get_running_loop()
        self.send = send
        self.timer = loop.call_later(self.seconds, self._fire)

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(self._fire)

        self.unsubscribe = self.subscribe(wake)
        if self.unsubscribe is None:
            loop.call_soon(self._fire)  # it happened already

    def _fire(self) -> None:
        if self.done:  # the event and the timeout both came
            return
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
        if self.unsubscribe is not None:
            self.unsubscribe()  # after the timeout; after the event it is a no-op
        answer = self.server.answer(self.request, app=self.later)
        assert isinstance(answer, bytes)
        self.send(answer)


@dataclass
class _Request:
    method: str
    target: str
    fields: dict[str, str]
    keep_alive: bool
    length: int
    body: bytes = b""


def _parse_head(block: bytes) -> _Request:
    """The request line and headers (`block` ends with the empty line)."""
    lines = block.split(b"\n")[:-2]  # the empty line, and what follows its newline
    if any(len(line) > MAX_LINE for line in lines):
        raise BadHTTP(431, "request line or header too long")
    parts = lines[0].decode("latin-1").rstrip("\r").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        raise BadHTTP(400, "malformed request line")
    method, target, version = parts
    if len(lines) - 1 > MAX_HEADERS:
        raise BadHTTP(400, "malformed or too many headers")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.decode("latin-1").rstrip("\r").partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise BadHTTP(400, "malformed header line")
        fields[name.lower()] = value.strip()
    connection = fields.get("connection", "").lower()
    keep_alive = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
    if "transfer-encoding" in fields:
        raise BadHTTP(411, "send the body with a Content-Length, not chunked")
    try:
        length = int(fields.get("content-length", "0"))
    except ValueError:
        raise BadHTTP(400, "Content-Length must be a number") from None
    if length < 0:
        raise BadHTTP(400, "Content-Length must not be negative")
    if length > MAX_BODY:
        raise BadHTTP(413, f"the body must be at most {MAX_BODY} bytes")
    return _Request(method, target, fields, keep_alive, length)


def _head_end(buffer: bytearray) -> int:
    """Where the header block ends (after its empty line), or -1 while it is incomplete."""
    ends = [i for i in (buffer.find(b"\n\r\n"), buffer.find(b"\n\n")) if i >= 0]
    if not ends:
        return -1
    end = min(ends)
    return end + (3 if buffer[end + 1 : end + 2] == b"\r" else 2)


class _Connection(asyncio.Protocol):
    """One client connection: requests are parsed from what arrives, answered in turn.

    A protocol rather than streams: no task, no awaits and no timer per request (with
    thousands of drivers polling, those cost more than the answers). A connection silent
    for IDLE_SECONDS, also mid-request, is closed."""

    def __init__(self, server: Http11Server) -> None:
        self.server = server
        self.buffer = bytearray()
        self.request: _Request | None = None  # its head read, waiting for its body
        self.transport: asyncio.Transport | None = None
        self.last_heard = 0.0
        self.idle: asyncio.TimerHandle | None = None
        self.closing = False
        self.held = False  # a request's answer is waiting: later requests wait behind it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have asyncio's interface without deriving from its classes.
        self.transport = cast(asyncio.Transport, transport)
        loop = asyncio.get_running_loop()
        self.last_heard = loop.time()
        self.idle = loop.call_later(IDLE_SECONDS, self._check_idle)

    def _check_idle(self) -> None:
        loop = asyncio.get_running_loop()
        silent = loop.time() - self.last_heard
        if silent >= IDLE_SECONDS and not self.held:
            self._close()
        else:  # a held request is not silence: look again a whole period later
            again = IDLE_SECONDS if self.held else IDLE_SECONDS - silent
            self.idle = loop.call_later(again, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.idle is not None:
            self.idle.cancel()
        self.closing = True

    # The answers are small; when the client does not read them, stop reading its requests.
    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_heard = asyncio.get_running_loop().time()
        self.buffer += data
        self._serve()

    def _serve(self) -> None:
        """Answer the requests that have arrived whole, in order (none while one is held)."""
        try:
            while not self.closing and not self.held and self._serve_one():
                pass
        except BadHTTP as exc:
            self._send(_error_answer(exc.status, exc.message))
            self._close()

    def _serve_one(self) -> bool:
        """Answer the next request if it has arrived whole; whether one was answered."""
        if self.request is None:
            end = _head_end(self.buffer)
            if end < 0:
                if len(self.buffer) > MAX_LINE * (MAX_HEADERS + 2):
                    raise BadHTTP(431, "request line or header too long")
                last_line = len(self.buffer) - (self.buffer.rfind(b"\n") + 1)
                if last_line > MAX_LINE:
                    raise BadHTTP(431, "request line or header too long")
                return False
            head = bytes(self.buffer[:end])
            del self.buffer[:end]
            self.request = _parse_head(head)
            expect = self.request.fields.get("expect", "").lower()
            if self.request.length > len(self.buffer) and expect == "100-continue":
                self._send(b"HTTP/1.1 100 Continue\r\n\r\n")
        request = self.request
        if len(self.buffer) < request.length:
            return False
        request.body = bytes(self.buffer[: request.length])
        del self.buffer[: request.length]
        self.request = None
        answer = self.server.answer(request)
        if isinstance(answer, _Held):
            self.held = True
            answer.start(lambda later: self._answered(request, later))
            return False
        return self._answered(request, answer)

    def _answered(self, request: _Request, answer: bytes) -> bool:
        """Send one answer; whether the connection stays open for the next request."""
        self._send(answer)
        if not request.keep_alive:
            self._close()
            return False
        if self.held:  # a held answer has gone: serve what arrived meanwhile
            self.held = False
            self.last_heard = asyncio.get_running_loop().time()
            self._serve()
        return True

    def _send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()  # after what was written has been sent
