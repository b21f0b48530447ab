"""Rollout tests: the API clients and the real worker loop (`--burst`, simulated driver)."""

from __future__ import annotations

from tests.api.conftest import (  # noqa: F401  (fixtures)
    _fast_password_hashing,
    client_for,
    partner_api,
    platform_api,
)
from tests.worker.conftest import burst, ucfleet_settings  # noqa: F401  (fixtures)
