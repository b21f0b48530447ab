"""A small HTTP/1.1 client on asyncio for the http driver (docs/worker.md, "Execution").

Thousands of tasks in flight each poll their operation every 0.2 s: with a thread and a
socket each, a worker would need thousands of both. Here requests are coroutines on the
worker's event loop and share keep-alive connections, pooled per origin and bounded
(`limit` requests at once per pool; more wait for a free connection). Only what the driver
needs: one request at a time per connection, bodies with Content-Length, chunked or
read-to-close answers, http and https. A connection is an asyncio protocol that parses the
answer from what arrives and completes one future: no stream reads and no awaits per
header line (with thousands of operations polled, those cost more than the answers).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import cast

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


class TransportError(Exception):
    """No answer: the connection failed, was reset, or the answer was not HTTP."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class ConnectionPool:
    """Keep-alive connections of one event loop, by (scheme, host, port)."""

    def __init__(self, *, limit: int = 256) -> None:
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._slots = asyncio.Semaphore(limit)
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        body: bytes | None,
        timeout: float,
    ) -> Response:
        """One request; TransportError or TimeoutError when there is no answer in time."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"unsupported URL {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        origin = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rsplit("@", 1)[-1]
        head = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT"):
            head.append(f"Content-Length: {len(body or b'')}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")
        async with self._slots:
            async with asyncio.timeout(timeout):
                return await self._send(origin, raw)

    async def _send(self, origin: tuple[str, str, int], raw: bytes) -> Response:
        idle = self._idle.setdefault(origin, [])
        while True:
            while idle and idle[-1].closed:
                idle.pop()  # closed by the server while idle
            reused = bool(idle)
            connection = idle.pop() if reused else await self._open(origin)
            try:
                response, keep = await connection.exchange(raw)
            except (OSError, EOFError, ValueError) as exc:
                connection.close()
                if reused:
                    continue  # the server closed a kept-alive connection: ask on a fresh one
                raise TransportError(str(exc) or type(exc).__name__) from None
            except BaseException:  # a timeout or a cancel mid-answer: the connection is spent
                connection.close()
                raise
            if keep and not self._closed and not connection.closed:
                idle.append(connection)
            else:
                connection.close()
            return response

    async def _open(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            context = self._ssl = self._ssl or ssl.create_default_context()
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(_Connection, host, port, ssl=context)
        except OSError as exc:  # asyncio says "Connect call failed": name the errno's reason
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise TransportError(f"{reason} ({host}:{port})") from None
        return connection

    async def aclose(self) -> None:
        self._closed = True
        connections = [c for idle in self._idle.values() for c in idle]
        self._idle.clear()
        for connection in connections:
            connection.close()
        if connections:
            await asyncio.sleep(0)  # let the transports close


class _Connection(asyncio.Protocol):
    """One connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[Response, bool]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have asyncio's interface without deriving from its classes.
        self.transport = cast(asyncio.Transport, transport)

    def exchange(self, raw: bytes) -> asyncio.Future[tuple[Response, bool]]:
        """Write one request; the future of its answer and whether the connection may be
        used again."""
        assert self.transport is not None and self.waiter is None
        self.buffer.clear()
        self.waiter = asyncio.get_running_loop().create_future()
        if self.closed:
            self.waiter.set_exception(EOFError("the server closed the connection"))
        else:
            self.transport.write(raw)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._try_answer(at_end=False)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._try_answer(at_end=True)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(EOFError("the server closed the connection"))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _try_answer(self, *, at_end: bool) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            answer = _parse_answer(self.buffer, at_end=at_end)
        except (ValueError, EOFError) as exc:
            self.waiter = None
            waiter.set_exception(exc)
            return
        if answer is not None:
            self.waiter = None
            waiter.set_result(answer)


def _parse_answer(buffer: bytearray, *, at_end: bool) -> tuple[Response, bool] | None:
    """The whole answer in `buffer` and whether the connection may be used again, or None
    while it is incomplete (`at_end`: the server has closed the connection)."""
    end = _head_end(buffer)
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise ValueError("the answer's headers are too long")
        if at_end:
            raise EOFError("the server closed the connection" if not buffer else "cut off")
        return None
    lines = bytes(buffer[:end]).decode("latin-1").split("\n")[:-2]
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError("the answer is not HTTP/1.x")
    version, status = parts[0], int(parts[1])
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    connection_header = fields.get("connection", "").lower()
    keep = "close" not in connection_header and (
        version != "HTTP/1.0" or "keep-alive" in connection_header
    )
    rest = buffer[end:]
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body = _chunked_body(rest)
        if body is None and at_end:
            raise EOFError("the answer was cut off")
    elif "content-length" in fields:
        length = int(fields["content-length"])
        if not 0 <= length <= MAX_BODY:
            raise ValueError(f"Content-Length {length} out of range")
        if len(rest) < length and at_end:
            raise EOFError("the answer was cut off")
        body = bytes(rest[:length]) if len(rest) >= length else None
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:  # until the server closes
        if len(rest) > MAX_BODY:
            raise ValueError("the answer is too large")
        body = bytes(rest) if at_end else None
        keep = False
    return None if body is None else (Response(status, body), keep)


def _head_end(buffer: bytearray) -> int:
    """Where the header block ends (after its empty line), or -1 while it is incomplete."""
    ends = [i for i in (buffer.find(b"\n\r\n"), buffer.find(b"\n\n")) if i >= 0]
    if not ends:
        return -1
    end = min(ends)
    return end + (3 if buffer[end + 1 : end + 2] == b"\r" else 2)


def _chunked_body(data: bytearray) -> bytes | None:
    """The body of a chunked answer, or None while it is incomplete."""
    chunks: list[bytes] = []
    size = position = 0
    while True:
        line_end = data.find(b"\n", position)
        if line_end < 0:
            return None
        length = int(bytes(data[position:line_end]).split(b";", 1)[0].strip() or b"0", 16)
        position = line_end + 1
        if length == 0:
            while True:  # trailers, up to the empty line
                line_end = data.find(b"\n", position)
                if line_end < 0:
                    return None
                line = data[position:line_end].strip()
                position = line_end + 1
                if not line:
                    return b"".join(chunks)
        size += length
        if size > MAX_BODY:
            raise ValueError("the answer is too large")
        if len(data) < position + length + 2:
            return None
        chunks.append(bytes(data[position : position + length]))
        position += length + 2
