"""A small HTTP/1.1 client on asyncio for the http driver (docs/worker.md, "Execution").

Thousands of tasks in flight each poll their operation every 0.2 s: with a thread and a
socket each, a worker would need thousands of both. Here requests are coroutines on the
worker's event loop and share keep-alive connections, pooled per origin and bounded
(`limit` requests at once per pool; more wait for a free connection). Only what the driver
needs: one request at a time per connection, bodies with Content-Length, chunked or
read-to-close answers, http and https.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import urllib.parse
from dataclasses import dataclass

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


class TransportError(Exception):
    """No answer: the connection failed, was reset, or the answer was not HTTP."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


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
            reused = bool(idle)
            connection = idle.pop() if reused else await self._open(origin)
            try:
                response, keep = await _exchange(connection, raw)
            except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as exc:
                await _close(connection)
                if reused:
                    continue  # the server closed a kept-alive connection: ask on a fresh one
                raise TransportError(str(exc) or type(exc).__name__) from None
            except BaseException:  # a timeout or a cancel mid-answer: the connection is spent
                await _close(connection)
                raise
            if keep and not self._closed:
                idle.append(connection)
            else:
                await _close(connection)
            return response

    async def _open(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            context = self._ssl = self._ssl or ssl.create_default_context()
        try:
            return await asyncio.open_connection(host, port, ssl=context, limit=MAX_HEAD)
        except OSError as exc:  # asyncio says "Connect call failed": name the errno's reason
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise TransportError(f"{reason} ({host}:{port})") from None

    async def aclose(self) -> None:
        self._closed = True
        connections = [c for idle in self._idle.values() for c in idle]
        self._idle.clear()
        for connection in connections:
            await _close(connection)


async def _exchange(connection: _Connection, raw: bytes) -> tuple[Response, bool]:
    """Write one request, read its answer: the response and whether the connection may be
    used again."""
    reader, writer = connection
    writer.write(raw)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise EOFError("the server closed the connection")
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError("the answer is not HTTP/1.x")
    version, status = parts[0], int(parts[1])
    fields: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise EOFError("the answer ended within its headers")
        name, _, value = line.decode("latin-1").partition(":")
        fields[name.strip().lower()] = value.strip()
    connection_header = fields.get("connection", "").lower()
    keep = "close" not in connection_header and (
        version != "HTTP/1.0" or "keep-alive" in connection_header
    )
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in fields:
        length = int(fields["content-length"])
        if not 0 <= length <= MAX_BODY:
            raise ValueError(f"Content-Length {length} out of range")
        body = await reader.readexactly(length)
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await reader.read(MAX_BODY)  # until the server closes
        keep = False
    return Response(status, body), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        line = await reader.readline()
        length = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if length == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        size += length
        if size > MAX_BODY:
            raise ValueError("the answer is too large")
        chunks.append(await reader.readexactly(length))
        await reader.readexactly(2)


async def _close(connection: _Connection) -> None:
    writer = connection[1]
    writer.close()
    with contextlib.suppress(OSError, asyncio.CancelledError, ssl.SSLError):
        await writer.wait_closed()
