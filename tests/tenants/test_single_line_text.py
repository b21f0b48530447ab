"""Names and every other single-line field refuse control characters (CR/LF cut the
customer e-mail's subject), in the services, so the API, the portal and the CLI import all
refuse them; multi-line texts keep their line breaks."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ucfleet.accounts.services import create_administrator, update_administrator
from ucfleet.core.errors import Invalid
from ucfleet.maintenance.services import create_maintenance
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.tenants.services import (
    create_partner,
    create_scale_unit,
    create_tenant,
    update_partner,
    update_tenant,
)
from ucfleet.versions.services import create_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


HOSTILE = [
    "Acme\r\nBcc: all@example.com",
    "Acme\nInc",
    "a\x00b",
    "a\x1b[31mb",
    "a\u2028b",
    "a\x85b",
]


def field_of(call) -> list[str]:
    with pytest.raises(Invalid) as refused:
        call()
    return list(refused.value.errors)


@pytest.mark.parametrize("value", HOSTILE)
def test_tenant_single_line_fields_refuse_control_characters(
    platform_admin, partner_a, versions, a_tenants, value
):
    new = {"domain": "new.example", "partner": partner_a.pk, "version": versions["current"].pk}
    assert field_of(lambda: create_tenant(platform_admin, name=value, **new)) == ["name"]
    tenant = a_tenants[0]
    original = tenant.name
    for field in ("name", "domain", "customer_id"):
        assert field in field_of(
            lambda f=field: update_tenant(platform_admin, tenant.pk, **{f: value})
        )
    assert "notification_email" in field_of(
        lambda: update_tenant(platform_admin, tenant.pk, notification_email=f"it@{value}.example")
    )
    tenant.refresh_from_db()
    assert tenant.name == original
    assert Tenant.objects.count() == len(a_tenants)


def test_multi_line_texts_keep_line_breaks_but_refuse_other_controls(platform_admin, a_tenants):
    tenant = update_tenant(platform_admin, a_tenants[0].pk, description="line one\r\nline two\t!")
    assert tenant.description == "line one\r\nline two\t!"
    assert field_of(
        lambda: update_tenant(platform_admin, a_tenants[0].pk, description="bell\x07")
    ) == ["description"]
    start = timezone.now() + timedelta(days=2)
    kept = create_maintenance(
        platform_admin, start=start, end=start + timedelta(hours=1), message_en="a\nb"
    )
    assert kept.message_en == "a\nb"
    assert field_of(
        lambda: create_maintenance(
            platform_admin, start=start, end=start + timedelta(hours=1), message_de="x\x00"
        )
    ) == ["message_de"]


def test_partner_scale_unit_version_and_administrator_names_refuse_line_breaks(
    advanced_platform_admin, partner_a
):
    admin = advanced_platform_admin
    bad = "Evil\r\nName"
    assert field_of(lambda: create_partner(admin, name=bad)) == ["name"]
    assert field_of(lambda: update_partner(admin, partner_a.pk, name=bad)) == ["name"]
    assert field_of(lambda: create_scale_unit(admin, name=bad)) == ["name"]
    assert field_of(lambda: create_scale_unit(admin, name="ok", location=bad)) == ["location"]
    assert field_of(lambda: create_version(admin, name="14.20\n", languages=["en"])) == ["name"]
    for field in ("first_name", "last_name"):
        assert field_of(
            lambda f=field: create_administrator(
                admin,
                username="new-admin",
                password="a-long-password",
                profile="platform",
                **{f: bad},
            )
        ) == [field]
    assert field_of(lambda: update_administrator(admin, admin.pk, last_name=bad)) == ["last_name"]
    assert not Partner.objects.filter(name=bad).exists()
    assert not ScaleUnit.objects.exists()


def test_the_api_refuses_a_tenant_name_with_a_line_break(
    client, platform_admin, partner_a, versions
):
    from ucfleet.accounts.tokens import issue_token

    body = {
        "name": "Acme\r\nBcc: all@example.com",
        "domain": "acme.example",
        "partner": partner_a.pk,
        "language": "en",
        "version": versions["current"].pk,
    }
    answer = client.post(
        "/api/v1/tenants/",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Token {issue_token(platform_admin).key}"},
    )
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["name"]
    assert not Tenant.objects.filter(domain="acme.example").exists()


def test_the_portal_shows_the_refusal_on_the_field(client, platform_admin):
    client.force_login(platform_admin)
    page = client.post("/partners/new/", {"name": "Evil\r\nPartner", "language": "en"})
    assert page.status_code == 200
    assert 'data-testid="error-name"' in page.content.decode()
    assert not Partner.objects.filter(name__startswith="Evil").exists()


def test_csv_import_names_the_line_and_the_field(tmp_path, partner_a, versions):
    path = tmp_path / "tenants.csv"
    path.write_text(
        'name,domain,partner,version\n"Acme\r\nInc",acme.example,Alpha Telecom,14.9\n',
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_tenants", str(path), stdout=out, stderr=err)
    text = str(refused.value) + err.getvalue() + out.getvalue()
    assert "line 2" in text and "name:" in text
    assert not Tenant.objects.filter(domain="acme.example").exists()
