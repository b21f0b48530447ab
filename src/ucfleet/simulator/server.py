"""`ucfleet simulator`: serves the simulator with the standard library's WSGI server.

One thread per request in flight (connections close after each answer, so an idle driver
holds none) plus the scheduler thread; operations themselves cost no thread.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ucfleet.simulator.app import SimulatorApp
from ucfleet.simulator.state import Simulator

TOKEN_VARIABLE = "UCFLEET_SIMULATOR_TOKEN"


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # thousands of drivers may connect at once: a short listen backlog would refuse some.
    request_queue_size = 1024


class QuietHandler(WSGIRequestHandler):
    """Logs errors only (a line per poll would drown everything), and keeps the raw path."""

    verbose = False

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["ucfleet.raw_path"] = self.path
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.verbose or str(code)[:1] == "5":
            super().log_request(code, size)


class VerboseHandler(QuietHandler):
    verbose = True


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
        try:
            server = make_server(
                args.host,
                args.port,
                SimulatorApp(simulator, token=token),
                server_class=ThreadingWSGIServer,
                handler_class=VerboseHandler if args.verbose else QuietHandler,
            )
        except OSError as exc:
            print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
            return 1
        stack.callback(server.server_close)
        stop = threading.Event()
        scheduler = threading.Thread(
            target=simulator.run_scheduler, args=(stop,), name="scheduler", daemon=True
        )
        scheduler.start()
        host, port = args.host, server.server_port
        print(
            f"UC provisioning simulator listening on http://{host}:{port}/ "
            f"(step {args.step_seconds:g} s, token {'required' if token else 'not required'})",
            flush=True,
        )
        signal.signal(signal.SIGTERM, _stop_serving)
        try:
            server.serve_forever(poll_interval=0.5)
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            stop.set()
            simulator.stop_scheduler()
            scheduler.join(timeout=2)
    return 0


def _stop_serving(signum: int, frame: object) -> None:
    raise SystemExit(0)
