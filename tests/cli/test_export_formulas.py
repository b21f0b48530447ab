"""`ucfleet export-tenants` writes cells a spreadsheet shows as text, never runs as formulas,
and import-tenants reads them back exactly."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import TenantFactory
from ucfleet.tenants.models import Tenant

pytestmark = pytest.mark.django_db

TYPED = {
    "name": '=HYPERLINK("http://evil.example","click")',
    "description": "+SUM(A1:A9)",
    "customer_id": "@cmd",
}


def test_exported_cells_never_start_a_formula_and_import_restores_them(
    run, partner_a, versions, tmp_path
):
    TenantFactory(partner=partner_a, version=versions["current"], domain="a.example", **TYPED)
    TenantFactory(
        partner=partner_a, version=versions["current"], domain="b.example", name="'=quoted"
    )
    exported = run("export_tenants")
    assert exported.code == 0
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    by_name = {row["name"]: row for row in rows}
    assert by_name["'" + TYPED["name"]]["description"] == "'" + TYPED["description"]
    assert "''=quoted" in by_name

    Tenant.objects.all().delete()
    path = tmp_path / "again.csv"
    path.write_text(exported.out, encoding="utf-8")
    imported = run("import_tenants", str(path))
    assert imported.code == 0, imported.err
    again = Tenant.objects.get(customer_id=TYPED["customer_id"])
    assert {name: getattr(again, name) for name in TYPED} == TYPED
    assert Tenant.objects.filter(name="'=quoted").exists()
