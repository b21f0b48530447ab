"""API test helpers: a token-authenticated client per administrator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import UpdateTaskFactory
from ucfleet.accounts.tokens import issue_token
from ucfleet.updates.choices import Status

BASE = "/api/v1"


@pytest.fixture
def client_for() -> Callable[[Any], APIClient]:
    """`client_for(admin)` logs in with the admin's token; `client_for(None)` is anonymous."""

    def make(admin: Any) -> APIClient:
        client = APIClient()
        if admin is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(admin).key}")
        return client

    return make


@pytest.fixture
def platform_api(client_for, platform_admin) -> APIClient:
    return client_for(platform_admin)


@pytest.fixture
def partner_api(client_for, partner_admin) -> APIClient:
    return client_for(partner_admin)


@pytest.fixture
def task_of(versions) -> Callable[..., Any]:
    """A task of `tenant` inserted directly (reads and state checks, not scheduling rules)."""

    def make(tenant: Any, *, status: str = Status.PLANNED, **fields: Any) -> Any:
        return UpdateTaskFactory(
            tenant=tenant, target_version=versions["new"], status=status, **fields
        )

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every test creates administrators; PBKDF2's deliberate slowness only costs time here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
