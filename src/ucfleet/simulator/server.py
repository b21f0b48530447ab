"""`ucfleet simulator`: serves the simulator's WSGI application on the asyncio HTTP/1.1
server of `http11.py`.

One thread in all: the event loop serves every connection and request and settles
operations as they end (a timer at the earliest end); operations themselves cost no thread.
A second thread for the settling cost more than it did: each end it settled had to take the
interpreter's lock from the loop (bench/fleet.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

import uvloop

from ucfleet.simulator.app import SimulatorApp
from ucfleet.simulator.http11 import Http11Server
from ucfleet.simulator.state import Simulator

TOKEN_VARIABLE = "UCFLEET_SIMULATOR_TOKEN"


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Run the UC provisioning simulator: the http driver's contract "
        "(docs/drivers.md) for simulated tenants.",
    )
    p.add_argument("--port", type=int, required=True, help="TCP port (0: any free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument(
        "--token",
        default=None,
        help=f"require 'Authorization: Bearer TOKEN' (default: ${TOKEN_VARIABLE}, else none)",
    )
    p.add_argument("--step-seconds", type=float, default=1.0, help="how long each step takes (1.0)")
    p.add_argument("--log-file", help="append every finished operation as a JSON line")
    p.add_argument("--verbose", action="store_true", help="log every request")
    return p


def main(argv: list[str] | None = None, *, prog: str = "ucfleet simulator") -> int:
    args = parser(prog).parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser(prog).error("--port must be between 0 and 65535")
    if not 0 <= args.step_seconds <= 3600:
        parser(prog).error("--step-seconds must be between 0 and 3600")
    token = args.token if args.token is not None else os.environ.get(TOKEN_VARIABLE, "")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.ExitStack() as stack:
        log_file = None
        if args.log_file:
            log_file = stack.enter_context(open(args.log_file, "a", encoding="utf-8"))
        simulator = Simulator(step_seconds=args.step_seconds, log_file=log_file)
        server = Http11Server(
            SimulatorApp(simulator, token=token),
            host=args.host,
            port=args.port,
            verbose=args.verbose,
        )
        # uvloop: the same asyncio API, a fraction of the cost per request (the simulator
        # answers a fleet's polls; bench/fleet.py).
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(_serve(server, simulator, args, token=token))


class _Settler:
    """Settles the simulator's operations as they end: one timer, at the earliest end."""

    def __init__(self, simulator: Simulator, loop: asyncio.AbstractEventLoop) -> None:
        self.simulator, self.loop = simulator, loop
        self.timer: asyncio.TimerHandle | None = None
        simulator.sooner = self._settle_soon

    def _settle_soon(self) -> None:
        # Called under the simulator's lock: the settling waits for the loop's next turn.
        with contextlib.suppress(RuntimeError):  # the loop has closed
            self.loop.call_soon_threadsafe(self.settle)

    def settle(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        wait = self.simulator.settle_due()
        self.timer = self.loop.call_later(1.0 if wait is None else min(wait, 1.0), self.settle)

    def stop(self) -> None:
        self.simulator.sooner = lambda: None
        if self.timer is not None:
            self.timer.cancel()


async def _serve(
    server: Http11Server, simulator: Simulator, args: argparse.Namespace, *, token: str
) -> int:
    settler = _Settler(simulator, asyncio.get_running_loop())
    settler.settle()
    try:
        return await _listen(server, args, token=token)
    finally:
        settler.stop()


async def _listen(server: Http11Server, args: argparse.Namespace, *, token: str) -> int:
    try:
        port = await server.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(
        f"UC provisioning simulator listening on http://{args.host}:{port}/ "
        f"(step {args.step_seconds:g} s, token {'required' if token else 'not required'})",
        flush=True,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    server.close()
    return 0
