"""How `ucfleet run` puts the simulator on one machine (R27): where it listens, and which
driver settings the workers get so that a new user watches real HTTP-driven updates.

Plain functions of the environment, so the run command stays a list of child processes.
"""

from __future__ import annotations

import sys
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

URL_VARIABLE = "UCFLEET_SIMULATOR_URL"
TOKEN_VARIABLE = "UCFLEET_SIMULATOR_TOKEN"


@dataclass(frozen=True)
class OneBoxSimulator:
    url: str
    host: str
    port: int
    # Added to the workers' environment: the http driver against the simulator, unless a
    # driver is configured (then empty: a configured driver replaces the simulator).
    worker_env: dict[str, str] = field(default_factory=dict)

    def argv(self, python: str = sys.executable) -> list[str]:
        return [
            python,
            "-m",
            "ucfleet.cli",
            "simulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]


def plan(environ: Mapping[str, str], *, portal_port: int) -> OneBoxSimulator | None:
    """The simulator `ucfleet run` starts, or None when a driver is configured and no
    simulator was asked for. ValueError for an unusable `UCFLEET_SIMULATOR_URL`."""
    explicit = environ.get(URL_VARIABLE, "").strip()
    driver_configured = bool(environ.get("UCFLEET_DRIVER", "").strip())
    if driver_configured and not explicit:
        return None
    url = explicit or f"http://127.0.0.1:{portal_port + 1}/"
    host, port = _listen_address(url)
    worker_env: dict[str, str] = {}
    if not driver_configured:
        worker_env = {"UCFLEET_DRIVER": "http", "UCFLEET_DRIVER_HTTP_URL": url}
        if not environ.get("UCFLEET_DRIVER_HTTP_WAIT"):
            # The simulator holds starts and polls until the step ends (docs/drivers.md).
            worker_env["UCFLEET_DRIVER_HTTP_WAIT"] = "30"
        token = environ.get(TOKEN_VARIABLE, "")
        if token and not environ.get("UCFLEET_DRIVER_HTTP_TOKEN"):
            worker_env["UCFLEET_DRIVER_HTTP_TOKEN"] = token
    return OneBoxSimulator(url=url, host=host, port=port, worker_env=worker_env)


def _listen_address(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None:
        raise ValueError(
            f"{URL_VARIABLE} must look like http://127.0.0.1:8001/ (http, a host and a port), "
            f"got {url!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{URL_VARIABLE} must not have a path, got {url!r}")
    if not 1 <= port <= 65535:
        raise ValueError(f"{URL_VARIABLE}: the port must lie between 1 and 65535, got {port}")
    return parts.hostname, port
