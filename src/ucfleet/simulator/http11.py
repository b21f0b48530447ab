"""A small HTTP/1.1 server on asyncio that runs a WSGI application in its event loop.

Why not the standard library's `wsgiref`: it spends ~0.3 ms of CPU per request on a thread
and its header parser, ten times what the simulator's own work costs (bench/simulator.py);
a fleet of drivers polling every 0.2 s needs thousands of answers a second. Here a
connection costs no thread, kept-alive connections are served in turn, and the application
(in-memory work under one lock, never blocking) is called directly from the loop.

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
from typing import Any

log = logging.getLogger("ucfleet.simulator.http")

MAX_LINE = 16 * 1024
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024  # read up to this much; the application sets its own, lower limit
IDLE_SECONDS = 60.0  # a connection silent this long (also mid-request) is closed

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


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
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_LINE, backlog=1024
        )
        return self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        """Stop listening; connections still open end with the event loop."""
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            keep_alive = True
            while keep_alive:
                try:
                    keep_alive = await asyncio.wait_for(
                        self._one_request(reader, writer), IDLE_SECONDS
                    )
                except BadHTTP as exc:
                    _write_error(writer, exc.status, exc.message)
                    keep_alive = False
                await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serves one request; whether the connection stays open for another."""
        line = await _read_line(reader)
        if not line.endswith(b"\n"):
            return False  # the client closed (between requests, or within this one)
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
            raise BadHTTP(400, "malformed request line")
        method, target, version = parts
        headers: list[tuple[str, str]] = []
        while True:
            header = await _read_line(reader)
            if header in (b"\r\n", b"\n"):
                break
            if not header.endswith(b"\n"):
                return False
            if len(headers) >= MAX_HEADERS:
                raise BadHTTP(400, "malformed or too many headers")
            name, sep, value = header.decode("latin-1").partition(":")
            if not sep or not name.strip() or name != name.strip():
                raise BadHTTP(400, "malformed header line")
            headers.append((name.lower(), value.strip()))
        fields = dict(headers)
        connection = fields.get("connection", "").lower()
        keep_alive = "close" not in connection and (
            version != "HTTP/1.0" or "keep-alive" in connection
        )
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
        if length and fields.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await reader.readexactly(length) if length else b""
        status, response_headers, payload = self._call_app(method, target, fields, body)
        head = [f"HTTP/1.1 {status}"]
        head += [f"{name}: {value}" for name, value in response_headers]
        head.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        if self.verbose:
            log.info("%s %s -> %s", method, target, status.split(" ", 1)[0])
        return keep_alive

    def _call_app(
        self, method: str, target: str, fields: dict[str, str], body: bytes
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
        for name, value in fields.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: None

        payload = b"".join(self.app(environ, start_response))
        return answer["status"], answer["headers"], payload


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except (asyncio.LimitOverrunError, ValueError):
        raise BadHTTP(431, "request line or header too long") from None


def _write_error(writer: asyncio.StreamWriter, status: int, message: str) -> None:
    reasons = {400: "Bad Request", 411: "Length Required", 413: "Payload Too Large"}
    reason = reasons.get(status, "Request Header Fields Too Large")
    payload = ('{"error": "' + message + '"}').encode()
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )
