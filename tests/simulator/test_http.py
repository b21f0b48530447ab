"""The simulator's own HTTP/1.1 server, spoken to over raw sockets: keep-alive, limits and
malformed requests (always a JSON error, never a hang or a dropped connection)."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse

import pytest


def address(sim) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(sim.url)
    return parts.hostname, parts.port


def exchange(sim, raw: bytes) -> bytes:
    """Sends `raw`, reads until the server closes the connection."""
    with socket.create_connection(address(sim), timeout=10) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_a_kept_alive_connection_serves_request_after_request(sim, instance):
    connection = http.client.HTTPConnection(*address(sim), timeout=10)
    try:
        body = json.dumps(
            {"task_id": 5150, "attempt_id": 1, "from_version": "1", "target_version": "2"}
        )
        connection.request("POST", f"/tenants/{instance}/steps/pre_check", body)
        started = connection.getresponse()
        assert started.status == 202
        operation_id = json.loads(started.read())["operation_id"]
        for _ in range(3):  # the same socket each time
            connection.request("GET", f"/operations/{operation_id}")
            answer = connection.getresponse()
            assert answer.status == 200
            assert json.loads(answer.read())["operation_id"] == operation_id
            assert answer.getheader("Connection") == "keep-alive"
    finally:
        connection.close()


def test_http_1_0_and_connection_close_end_the_connection_after_the_answer(sim):
    for request in (
        b"GET /healthz HTTP/1.0\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ):
        status, body = status_and_body(exchange(sim, request))
        assert (status, body["status"]) == (200, "ok")


def test_expect_100_continue_is_answered_before_the_body(sim, instance):
    body = json.dumps({"busy_seconds": 5, "calls": 2}).encode()
    with socket.create_connection(address(sim), timeout=10) as conn:
        conn.sendall(
            f"POST /tenants/{instance}/faults HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        assert conn.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.sendall(body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status, tenant = status_and_body(answer)
    assert (status, tenant["active_calls"]) == (200, 2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /healthz SPDY/3\r\n\r\n", 400),
        (b"GET healthz HTTP/1.1\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n", 431),
        (b"POST /settings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
        (b"PUT /settings HTTP/1.1\r\nContent-Length: lots\r\n\r\n", 400),
        (b"PUT /settings HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"PUT /settings HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
    ],
)
def test_a_malformed_request_gets_a_json_error_and_the_connection_closes(sim, raw, expected):
    status, body = status_and_body(exchange(sim, raw))
    assert status == expected
    assert body["error"]
    assert sim.call("GET", "/healthz")[0] == 200  # and the server serves on


def test_a_client_that_hangs_up_mid_request_does_not_disturb_the_server(sim):
    with socket.create_connection(address(sim), timeout=10) as conn:
        conn.sendall(b'PUT /settings HTTP/1.1\r\nContent-Length: 50\r\n\r\n{"step')
    with socket.create_connection(address(sim), timeout=10) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x")
    assert sim.call("GET", "/settings")[1]["step_seconds"] == 0.05
