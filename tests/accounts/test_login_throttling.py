"""Login throttling (docs/security.md): per account and address (django-axes), per account
across addresses and per address across accounts (accounts.throttling), behind a reverse
proxy whose X-Forwarded-For is believed only when it is a trusted one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog
from django.test import Client

from tests.api.conftest import BASE
from tests.factories import PASSWORD, AdministratorFactory
from ucfleet.accounts.choices import Profile

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"


@pytest.fixture(autouse=True)
def throttling(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.UCFLEET_TRUSTED_PROXIES = [PROXY]
    settings.UCFLEET = {
        **settings.UCFLEET,
        "LOGIN_ACCOUNT_FAILURE_LIMIT": 10,
        "LOGIN_ACCOUNT_COOLOFF_SECONDS": 60.0,
        "LOGIN_ADDRESS_FAILURE_LIMIT": 30,
    }


def login(username: str, password: str, *, remote: str, forwarded: str | None = None) -> int:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    answer = Client().post("/login/", {"username": username, "password": password}, **extra)
    return answer.status_code


def age_failures(seconds: float) -> None:
    """Move every recorded failure into the past, as if that much time had gone by."""
    for failure in AccessFailureLog.objects.all():
        AccessFailureLog.objects.filter(pk=failure.pk).update(
            attempt_time=failure.attempt_time - timedelta(seconds=seconds)
        )


def test_one_client_behind_the_proxy_cannot_lock_out_another(platform_admin):
    attacker, victim = "203.0.113.5", "198.51.100.7"
    answers = [
        login(platform_admin.username, "wrong", remote=PROXY, forwarded=attacker) for _ in range(6)
    ]
    assert answers[:4] == [200] * 4 and answers[-1] == 429  # the attacker's pair is locked
    assert login(platform_admin.username, PASSWORD, remote=PROXY, forwarded=attacker) == 429
    # The real user, behind the same proxy address, logs in.
    assert login(platform_admin.username, PASSWORD, remote=PROXY, forwarded=victim) == 302


def test_a_client_sending_x_forwarded_for_itself_is_not_believed(platform_admin):
    untrusted = "192.0.2.9"
    for n in range(6):
        login(platform_admin.username, "wrong", remote=untrusted, forwarded=f"198.51.100.{n}")
    rotated = login(platform_admin.username, PASSWORD, remote=untrusted, forwarded="198.51.100.99")
    assert rotated == 429
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {untrusted}


def test_proxy_chain_is_read_from_the_right(platform_admin, settings):
    settings.UCFLEET_TRUSTED_PROXIES = [PROXY, "10.0.1.0/24"]
    # The client forged a first hop; our proxies appended the real address and themselves.
    login(
        platform_admin.username, "wrong", remote=PROXY, forwarded="1.2.3.4, 198.51.100.8, 10.0.1.7"
    )
    assert list(AccessFailureLog.objects.values_list("ip_address", flat=True)) == ["198.51.100.8"]


def test_many_addresses_slow_down_guessing_on_one_account(platform_admin):
    for n in range(10):  # the account's free tries, each from another address
        assert login(platform_admin.username, "wrong", remote=f"198.51.100.{n}") == 200
    fresh = "198.51.100.200"
    # Now even the right password waits for the cool-off, from any address.
    assert login(platform_admin.username, PASSWORD, remote=fresh) == 429
    assert AccessFailureLog.objects.count() == 10  # refused tries are not counted
    age_failures(61)
    assert login(platform_admin.username, PASSWORD, remote=fresh) == 302


def test_the_account_cooloff_doubles_with_every_further_failure(platform_admin):
    for n in range(10):
        login(platform_admin.username, "wrong", remote=f"198.51.100.{n}")
    age_failures(61)
    assert login(platform_admin.username, "wrong", remote="198.51.100.50") == 200  # 11th
    age_failures(61)  # 2 minutes are due now
    assert login(platform_admin.username, PASSWORD, remote="198.51.100.51") == 429
    age_failures(60)
    assert login(platform_admin.username, PASSWORD, remote="198.51.100.51") == 302


def test_other_accounts_are_not_slowed_by_one_attacked_account(platform_admin):
    other = AdministratorFactory(username="other-plat", profile=Profile.PLATFORM)
    for n in range(12):
        login(platform_admin.username, "wrong", remote=f"198.51.100.{n}")
    assert login(other.username, PASSWORD, remote="198.51.100.3") == 302


def test_one_address_spraying_many_accounts_is_stopped(platform_admin):
    sprayer = "203.0.113.77"
    for n in range(30):
        login(f"user-{n}", "wrong", remote=sprayer)
    assert login(platform_admin.username, PASSWORD, remote=sprayer) == 429
    assert login(platform_admin.username, PASSWORD, remote="198.51.100.9") == 302


def test_the_api_login_is_throttled_per_account_with_retry_after(platform_admin):
    for n in range(10):
        login(platform_admin.username, "wrong", remote=f"198.51.100.{n}")
    answer = Client().post(
        f"{BASE}/auth/token/",
        {"username": platform_admin.username, "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.222",
    )
    assert answer.status_code == 429 and answer.json()["code"] == "locked_out"
    assert 0 < int(answer["Retry-After"]) <= 60


def test_an_api_login_clears_the_accounts_failure_count(platform_admin):
    for n in range(9):
        login(platform_admin.username, "wrong", remote=f"198.51.100.{n}")
    answer = Client().post(
        f"{BASE}/auth/token/",
        {"username": platform_admin.username, "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.100",
    )
    assert answer.status_code == 200
    platform_admin.refresh_from_db()
    assert platform_admin.last_login is not None
    for n in range(9):
        login(platform_admin.username, "wrong", remote=f"198.51.100.{n + 20}")
    assert login(platform_admin.username, PASSWORD, remote="198.51.100.200") == 302
