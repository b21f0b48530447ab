"""`?wait=S` on a step start and a poll (docs/drivers.md): the simulator holds the answer until
the operation ends or S seconds pass, whichever is first, and answers the operation as it is
then. Spoken to over real sockets, as the http driver does."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.simulator.process import SimulatorProcess, running_simulator

SLOW = "backup"  # takes 30 s in this module's simulator: longer than any wait below


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with running_simulator("--step-seconds", "0.2") as simulator:
        status, _ = simulator.call("PUT", "/settings", {"per_step_seconds": {SLOW: 30}})
        assert status == 200
        yield simulator


def _body(instance: str, task_id: int) -> dict:
    return {
        "task_id": task_id,
        "attempt_id": 1,
        "from_version": "14.9",
        "target_version": "15.0",
        "tenant": {"instance_id": instance, "name": instance},
    }


def _start(sim, instance: str, step: str, task_id: int, query: str = "") -> tuple[int, dict]:
    return sim.call("POST", f"/tenants/{instance}/steps/{step}{query}", _body(instance, task_id))


def test_a_start_with_wait_answers_the_ended_operation(sim, instance):
    status, answer = _start(sim, instance, "pre_check", 9101, "?wait=20")

    assert status == 202
    assert answer["status"] == "succeeded"  # held until the 0.2 s step had ended
    assert answer["result"]["active_calls"] == 0
    assert answer["finished"] is not None
    assert sim.last_headers["Location"] == f"/operations/{answer['operation_id']}"
    # The same start again is the same operation, answered at once now that it has ended.
    again_status, again = _start(sim, instance, "pre_check", 9101, "?wait=20")
    assert (again_status, again) == (202, answer)


def test_a_start_without_wait_still_answers_at_once(sim, instance):
    status, answer = _start(sim, instance, "pre_check", 9102)

    assert (status, answer["status"]) == (202, "running")
    assert set(answer) == {"operation_id", "status"}  # the contract's start answer


def test_a_poll_with_wait_answers_when_the_operation_ends(sim, instance):
    _, started = _start(sim, instance, "pre_check", 9103)

    status, answer = sim.call("GET", f"/operations/{started['operation_id']}?wait=20")

    assert (status, answer["status"]) == (200, "succeeded")
    assert answer["operation_id"] == started["operation_id"]


def test_a_wait_shorter_than_the_step_answers_it_running(sim, instance):
    status, answer = _start(sim, instance, SLOW, 9104, "?wait=0.3")
    assert (status, answer["status"], answer["finished"]) == (202, "running", None)

    status, polled = sim.call("GET", f"/operations/{answer['operation_id']}?wait=0.3")
    assert (status, polled["status"]) == (200, "running")


@pytest.mark.parametrize("wait", ["soon", "-1", "60.5", "nan", "inf", ""])
def test_a_bad_wait_is_400_and_starts_nothing(sim, instance, wait):
    status, answer = _start(sim, instance, "pre_check", 9105, f"?wait={wait}")

    if wait == "":  # no value: no wait asked
        assert (status, answer["status"]) == (202, "running")
        return
    assert status == 400
    assert answer == {"error": "wait must be a number of seconds from 0 to 60"}
    status, log = sim.call("GET", "/log?task_id=9105")
    assert (status, log) == (200, [])
    status, tenant = sim.call("GET", f"/tenants/{instance}")
    assert status == 404, tenant  # no step ever ran on it


def test_a_poll_of_an_unknown_operation_with_wait_is_404(sim):
    status, answer = sim.call("GET", "/operations/op-nothing?wait=5")

    assert status == 404 and "op-nothing" in answer["error"]


def _address(sim) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(sim.url)
    return parts.hostname, parts.port


def _read_answers(conn: socket.socket, count: int) -> list[tuple[int, dict]]:
    """`count` answers with Content-Length bodies from one kept-alive connection."""
    buffer, answers = b"", []
    while len(answers) < count:
        head_end = buffer.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buffer[:head_end].decode("latin-1")
            length = int(head.lower().split("content-length:", 1)[1].split("\r\n", 1)[0])
            if len(buffer) >= head_end + 4 + length:
                body = buffer[head_end + 4 : head_end + 4 + length]
                answers.append((int(head.split(" ", 2)[1]), json.loads(body)))
                buffer = buffer[head_end + 4 + length :]
                continue
        chunk = conn.recv(65536)
        assert chunk, f"the connection closed after {len(answers)} answers"
        buffer += chunk
    return answers


def test_requests_behind_a_held_one_are_answered_after_it_in_order(sim, instance):
    _, started = _start(sim, instance, "pre_check", 9106)
    operation = started["operation_id"]
    pipelined = (
        f"GET /operations/{operation}?wait=20 HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    ).encode()

    with socket.create_connection(_address(sim), timeout=20) as conn:
        conn.sendall(pipelined)
        (first_status, first), (second_status, second) = _read_answers(conn, 2)

    assert (first_status, first["operation_id"], first["status"]) == (200, operation, "succeeded")
    assert (second_status, second["status"]) == (200, "ok")


def test_a_client_gone_while_held_leaves_the_simulator_serving(sim, instance):
    _, started = _start(sim, instance, SLOW, 9107)
    with socket.create_connection(_address(sim), timeout=20) as conn:
        conn.sendall(
            f"GET /operations/{started['operation_id']}?wait=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
    time.sleep(1.2)  # past the hold: its answer finds the connection closed

    status, health = sim.call("GET", "/healthz")
    assert (status, health["status"]) == (200, "ok")
    assert not [line for line in sim.output if "Traceback" in line or "ERROR" in line]


def test_a_wait_given_up_stops_waiting_and_an_ended_operation_is_not_waited_for():
    from ucfleet.simulator.state import Simulator
    from ucfleet.simulator.validation import step_request

    simulator = Simulator(step_seconds=0.05)
    body = _body("uc-held", 9108)
    operation = simulator.start_step(
        "uc-held", "pre_check", step_request("pre_check", "uc-held", body)
    )
    called: list[str] = []
    given_up = simulator.when_ended(operation.operation_id, lambda: called.append("given up"))
    kept = simulator.when_ended(operation.operation_id, lambda: called.append("kept"))
    assert given_up is not None and kept is not None
    given_up()  # its wait passed first: it must not be called, nor kept around

    time.sleep(0.1)
    assert simulator.settle_due() is None
    assert called == ["kept"]
    assert simulator.when_ended(operation.operation_id, lambda: called.append("late")) is None
    assert simulator.when_ended("op-unknown", lambda: called.append("unknown")) is None
    assert called == ["kept"]
