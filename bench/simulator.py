"""The UC provisioning simulator under a fleet's load: 2,000 operations in flight, polled.

Starts `ucfleet simulator` as a real process, starts OPERATIONS update steps (one per tenant)
that last until the bench ends them, then polls them round-robin from CLIENTS threads for a
few seconds, as that many http drivers would. Prints starts and polls answered per second
beside what the drivers ask for (every operation polled every 0.2 s, docs/drivers.md), and
the simulator's threads and memory while everything is in flight. The client threads run on
the same machine, so the figures are a floor of what the simulator can answer.

    .venv/bin/python bench/simulator.py [--operations 2000] [--clients 32] [--seconds 5]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

POLL_SECONDS = 0.2  # the http driver's default poll interval


def start_simulator() -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ucfleet.cli", "simulator", "--port", "0", "--step-seconds", "3600"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    match = re.search(r"http://[^:]+:(\d+)/", process.stdout.readline())
    if not match:
        raise SystemExit("the simulator did not start")
    return process, int(match.group(1))


def call(port: int, method: str, path: str, body: object = None) -> tuple[int, object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = None if body is None else json.dumps(body)
        connection.request(method, path, data, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    process, port = start_simulator()
    try:
        body = {"attempt_id": 1, "from_version": "14.9", "target_version": "15.0"}

        def start(i: int) -> str:
            status, answer = call(
                port, "POST", f"/tenants/uc-{i}/steps/update", {**body, "task_id": i}
            )
            assert status == 202, answer
            return answer["operation_id"]  # type: ignore[index]

        with ThreadPoolExecutor(args.clients) as pool:
            began = time.perf_counter()
            ids = list(pool.map(start, range(args.operations)))
            start_seconds = time.perf_counter() - began

            polls = itertools.count()
            cycle = itertools.cycle(ids)
            lock = threading.Lock()
            most_threads = 0
            until = time.monotonic() + args.seconds

            def poller() -> None:
                nonlocal most_threads
                while time.monotonic() < until:
                    with lock:
                        operation_id = next(cycle)
                    status, answer = call(port, "GET", f"/operations/{operation_id}")
                    assert status == 200 and answer["status"] == "running", answer  # type: ignore[index]
                    next(polls)
                    threads = int(proc_status(process.pid)["Threads"])
                    most_threads = max(most_threads, threads)

            began, cpu_before = time.perf_counter(), cpu_seconds(process.pid)
            list(pool.map(lambda _: poller(), range(args.clients)))
            poll_seconds = time.perf_counter() - began
            cpu_per_poll = (cpu_seconds(process.pid) - cpu_before) / max(1, next(polls))
        answered = (next(polls) - 1) / poll_seconds
        rss = proc_status(process.pid)["VmRSS"].strip()
        call(port, "PUT", "/settings", {"step_seconds": 0})
        running = call(port, "GET", "/healthz")[1]["operations_running"]  # type: ignore[index]
        needed = args.operations / POLL_SECONDS
        print(f"simulator, {args.operations} operations in flight, {args.clients} client threads:")
        print(f"  starts   {args.operations / start_seconds:8.0f} /s")
        print(
            f"  polls    {answered:8.0f} /s answered; {needed:.0f} /s asked by "
            f"{args.operations} drivers polling every {POLL_SECONDS} s: "
            f"ratio {answered / needed:.2f}"
        )
        print(f"  cpu      {cpu_per_poll * 1e3:.2f} ms of the simulator's CPU per poll")
        print(f"  threads  {most_threads} at most; memory {rss}; running after the end: {running}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
