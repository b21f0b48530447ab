"""Drivers: how a step is performed on a tenant (R24, R27), chosen by `UCFLEET_DRIVER`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucfleet.worker.drivers.base import Driver, DriverFailure, Execution, HandBack, TaskSpec

DRIVER_NAMES = ("simulated", "command", "http")

__all__ = [
    "DRIVER_NAMES",
    "Driver",
    "DriverFailure",
    "Execution",
    "HandBack",
    "TaskSpec",
    "driver_from_settings",
]


def driver_from_settings(config: Mapping[str, Any]) -> Driver:
    """The driver `config` (settings.UCFLEET) names; ValueError for an unknown or incomplete
    one, so a misconfigured worker stops at start-up, not at its first task."""
    name = config.get("DRIVER", "simulated")
    if name == "simulated":
        from ucfleet.worker.drivers.simulated import SimulatedDriver

        return SimulatedDriver(
            seconds=config["SIMULATED_SECONDS"],
            failure_share=config["SIMULATED_FAILURE_SHARE"],
            seed=config["SIMULATED_SEED"],
        )
    if name == "command":
        from ucfleet.worker.drivers.command import CommandDriver

        return CommandDriver(
            command=config["COMMAND"],
            step_timeouts=config["DRIVER_STEP_TIMEOUTS"],
        )
    if name == "http":
        from ucfleet.worker.drivers.http import HttpDriver

        return HttpDriver(
            url=config["HTTP_URL"],
            poll_seconds=config["HTTP_POLL_SECONDS"],
            token=config.get("HTTP_TOKEN", ""),
            retries=config["HTTP_RETRIES"],
            wait_seconds=config.get("HTTP_WAIT_SECONDS", 0.0),
            connections=config.get("HTTP_CONNECTIONS", 256),
            step_timeouts=config["DRIVER_STEP_TIMEOUTS"],
        )
    raise ValueError(f"unknown driver {name!r}; choose one of {', '.join(DRIVER_NAMES)}")
