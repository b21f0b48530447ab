"""The http driver's HTTP/1.1 client against a real socket server that answers as HTTP
servers may: Content-Length, chunked, read-to-close, a kept-alive connection closed between
requests, garbage, and no answer at all."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from ucfleet.worker.drivers.http_client import ConnectionPool, TransportError


async def _serve(answers: list[bytes], *, close_after: bool = False):
    """A server that answers the n-th request it reads with answers[n] (closing the
    connection afterwards when `close_after`); returns it, its URL and the requests seen."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                seen.append(head + body)
                if len(seen) > len(answers):
                    break  # no answer scripted: hang up
                writer.write(answers[len(seen) - 1])
                await writer.drain()
                if close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/x", seen


def _run(coroutine):
    # A loop of its own in a thread of its own: an earlier test (the browser's sync API)
    # may leave an event loop set in the main thread, where asyncio.run refuses to start.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _requests(answers: list[bytes], count: int, *, close_after: bool = False):
    server, url, seen = await _serve(answers, close_after=close_after)
    pool = ConnectionPool(limit=4)
    try:
        results = []
        for i in range(count):
            body = f'{{"n": {i}}}'.encode()
            results.append(
                await pool.request("POST", url, headers={"A": "b"}, body=body, timeout=5)
            )
        return results, seen
    finally:
        await pool.aclose()
        server.close()
        await server.wait_closed()


def test_content_length_answers_reuse_one_connection():
    answer = b'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"a":1}'
    results, seen = _run(_requests([answer] * 3, 3))
    assert [(r.status, r.body) for r in results] == [(200, b'{"a":1}')] * 3
    assert seen[0].startswith(b"POST /x HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Content-Length: 8\r\n" in seen[0] and seen[2].endswith(b'{"n": 2}')


def test_a_chunked_answer_is_joined():
    answer = (
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'3\r\n{"a\r\n4;x=y\r\n":2}\r\n0\r\n\r\n'
    )
    results, _ = _run(_requests([answer, answer], 2))
    assert [(r.status, r.body) for r in results] == [(202, b'{"a":2}')] * 2


def test_an_answer_without_length_is_read_to_the_close():
    answer = b'HTTP/1.1 200 OK\r\n\r\n{"whole": true}'
    results, seen = _run(_requests([answer, answer], 2, close_after=True))
    assert [r.body for r in results] == [b'{"whole": true}'] * 2
    assert len(seen) == 2


def test_a_kept_alive_connection_the_server_closed_is_replaced():
    # The server says keep-alive but hangs up after each answer: the next request goes out
    # on a fresh connection instead of failing.
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    results, seen = _run(_requests([answer] * 3, 3, close_after=True))
    assert [r.status for r in results] == [200] * 3 and len(seen) == 3


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"SPDY/3 200 OK\r\n\r\n", "not HTTP"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "out of range"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "cut off"),
    ],
)
def test_a_broken_answer_is_a_transport_error(answer, reason):
    async def one():
        server, url, _ = await _serve([answer], close_after=True)
        pool = ConnectionPool()
        try:
            with pytest.raises(TransportError, match=reason):
                await pool.request("GET", url, headers={}, body=None, timeout=5)
        finally:
            await pool.aclose()
            server.close()

    _run(one())


def test_no_answer_in_time_is_a_timeout():
    async def one():
        answered = asyncio.Event()

        async def silent(reader, writer):
            await answered.wait()  # never in time
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = ConnectionPool()
        try:
            with pytest.raises(TimeoutError):
                await pool.request(
                    "GET", f"http://127.0.0.1:{port}/", headers={}, body=None, timeout=0.2
                )
        finally:
            answered.set()
            await pool.aclose()
            server.close()
            await asyncio.sleep(0.05)  # the handler closes its side

    _run(one())


def test_a_refused_connection_names_the_reason():
    async def one():
        pool = ConnectionPool()
        with pytest.raises(TransportError, match="refused"):
            await pool.request("GET", "http://127.0.0.1:1/", headers={}, body=None, timeout=5)

    _run(one())
