"""API tokens: only a hash is stored, the key is shown once, tokens expire, and a new password
or a deactivation revokes them; DRF's old plaintext keys keep working until they expire."""

from __future__ import annotations

import hashlib
import importlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD
from ucfleet.accounts.models import ApiToken
from ucfleet.accounts.services import update_administrator
from ucfleet.accounts.tokens import issue_token

pytestmark = pytest.mark.django_db

TENANTS = "/api/v1/tenants/"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_database_holds_no_key_only_a_prefix_and_its_hash(partner_admin):
    key = issue_token(partner_admin).key
    row = ApiToken.objects.get()
    assert row.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.prefix == key[:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert key not in stored
    assert api(key).get(TENANTS).status_code == 200


def test_the_login_answers_a_new_key_each_time_and_each_works(partner_admin):
    keys = []
    for _ in range(2):
        answer = APIClient().post(
            "/api/v1/auth/token/",
            {"username": partner_admin.username, "password": PASSWORD},
            format="json",
        )
        assert answer.status_code == 200
        keys.append(answer.json()["token"])
        assert answer.json()["expires_at"]
    assert keys[0] != keys[1]
    assert all(api(key).get(TENANTS).status_code == 200 for key in keys)


def test_tokens_expire_after_the_configured_days(partner_admin, settings):
    settings.UCFLEET = {**settings.UCFLEET, "TOKEN_DAYS": 7}
    issued = issue_token(partner_admin)
    lifetime = issued.token.expires_at - issued.token.created
    assert lifetime == timedelta(days=7)
    assert api(issued.key).get(TENANTS).status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = api(issued.key).get(TENANTS)
    assert answer.status_code == 401


def test_a_wrong_secret_with_a_right_prefix_is_refused(partner_admin):
    key = issue_token(partner_admin).key
    forged = key[:8] + ("0" if key[8] != "0" else "1") + key[9:]
    assert api(forged).get(TENANTS).status_code == 401


def test_a_new_password_revokes_the_administrators_tokens(
    advanced_platform_admin, partner_admin, platform_admin
):
    theirs, others = issue_token(partner_admin).key, issue_token(platform_admin).key
    update_administrator(
        advanced_platform_admin, partner_admin.pk, password="Fresh-Meadow-Quartz-7"
    )
    assert api(theirs).get(TENANTS).status_code == 401
    assert api(others).get(TENANTS).status_code == 200


def test_deactivation_revokes_the_administrators_tokens(advanced_platform_admin, partner_admin):
    key = issue_token(partner_admin).key
    update_administrator(advanced_platform_admin, partner_admin.pk, first_name="Still")
    assert api(key).get(TENANTS).status_code == 200  # other changes keep the tokens
    update_administrator(advanced_platform_admin, partner_admin.pk, is_active=False)
    assert not ApiToken.objects.filter(user=partner_admin).exists()
    assert api(key).get(TENANTS).status_code == 401


def test_plaintext_keys_from_before_are_hashed_and_keep_working_for_90_days(partner_admin):
    old = Token.objects.create(user=partner_admin)  # DRF's plaintext token, as on main
    migration = importlib.import_module("ucfleet.accounts.migrations.0003_hash_existing_tokens")
    migration.hash_existing_tokens(apps, None)
    assert not Token.objects.exists()  # no key left readable
    row = ApiToken.objects.get(user=partner_admin)
    assert row.secret_hash == hashlib.sha256(old.key.encode()).hexdigest()
    days_left = (row.expires_at - timezone.now()) / timedelta(days=1)
    assert 89.9 < days_left <= 90
    assert api(old.key).get(TENANTS).status_code == 200


def test_cli_token_create_shows_the_key_once_and_stores_its_hash(partner_admin):
    out = io.StringIO()
    call_command("token", "create", partner_admin.username, stdout=out)
    key = out.getvalue().strip()
    assert len(key) == 40
    assert ApiToken.objects.get().secret_hash == hashlib.sha256(key.encode()).hexdigest()
    assert api(key).get(TENANTS).status_code == 200


def test_cli_token_command_uses_the_accounts_tokens():
    import ucfleet.accounts.management.commands.token as command

    source = Path(command.__file__).read_text()
    assert "ucfleet.api" not in source and "ucfleet.accounts.tokens" in source
