"""Thousands of operations in flight cost the simulator no threads (issue 13 drives 2,000)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tests.simulator.process import running_simulator

OPERATIONS = 1_000
CLIENTS = 16
THREAD_LIMIT = 8  # the event loop (connections and operations cost none), a few to spare


def test_a_thousand_concurrent_operations_run_to_completion_on_few_threads():
    with running_simulator("--step-seconds", "3600") as sim:
        most_threads = 0
        sampling = threading.Event()

        def sample() -> None:
            nonlocal most_threads
            while not sampling.wait(0.05):
                most_threads = max(most_threads, sim.threads())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                operation_ids = list(
                    pool.map(
                        lambda i: sim.start_step(
                            f"uc-{i:04d}", "update", task_id=i, target_version="15.0"
                        ),
                        range(OPERATIONS),
                    )
                )
                # Every one is in flight at once: they last an hour.
                assert sim.call("GET", "/healthz")[1]["operations_running"] == OPERATIONS
                running = list(
                    pool.map(lambda o: sim.call("GET", f"/operations/{o}"), operation_ids)
                )
                assert {answer["status"] for _, answer in running} == {"running"}

                # Shorter steps apply to the running operations too: they all end now.
                sim.call("PUT", "/settings", {"step_seconds": 0.5})
                deadline = time.monotonic() + 120  # one bound for all, not 20 s each

                def wait(operation_id: str) -> dict:
                    return sim.wait(operation_id, timeout=max(0.0, deadline - time.monotonic()))

                finished = list(pool.map(wait, operation_ids))
        finally:
            sampling.set()
            sampler.join(timeout=5)

        assert len(set(operation_ids)) == OPERATIONS
        assert {operation["status"] for operation in finished} == {"succeeded"}
        assert sim.call("GET", "/healthz")[1]["operations_running"] == 0
        log = sim.call("GET", "/log?step=update")[1]
        assert len(log) == OPERATIONS
        assert {entry["outcome"] for entry in log} == {"succeeded"}
        assert sim.call("GET", "/tenants/uc-0999")[1]["version"] == "15.0"
        print(f"most threads of the simulator: {most_threads}")
        assert 0 < most_threads <= THREAD_LIMIT, most_threads
