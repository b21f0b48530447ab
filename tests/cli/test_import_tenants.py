"""`ucfleet import-tenants`: all lines or none, each bad line named; and export round trips."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import AdministratorFactory, TenantFactory
from ucfleet.accounts.choices import Profile
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.cli import main
from ucfleet.tenants.models import Tenant

pytestmark = pytest.mark.django_db

HEADER = [
    "name",
    "domain",
    "partner",
    "language",
    "version",
    "notification_email",
    "is_test",
    "test_until",
    "scale_unit",
    "auto_update_allowed",
]


def row(n: int, partner: str = "Alpha Telecom", **changes: str) -> dict[str, str]:
    values = {
        "name": f"customer-{n:05d}",
        "domain": f"c{n}.uc.example",
        "partner": partner,
        "language": "de" if n % 2 else "en",
        "version": "14.9",
        "notification_email": f"it@c{n}.example",
        "is_test": "false",
        "test_until": "",
        "scale_unit": "fra-1",
        "auto_update_allowed": "yes",
    }
    return values | changes


def write(path, rows, header=HEADER) -> str:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def refs(partner_a, partner_b, versions, scale_unit):
    return {"a": partner_a, "b": partner_b}


def test_imports_10000_tenants(run, refs, tmp_path):
    path = write(
        tmp_path / "tenants.csv",
        [row(n, partner="Beta Networks" if n % 3 else "Alpha Telecom") for n in range(10_000)],
    )
    result = run("import_tenants", path, "--verbosity", "2")
    assert result.code == 0, result.err
    assert "Imported 10000 UC tenants." in result.out
    assert "importing: 10000/10000 (100%)" in result.err  # progress for a large file
    assert Tenant.objects.count() == 10_000
    assert Tenant.objects.filter(partner=refs["a"]).count() == 3334
    assert Tenant.objects.values("instance_id").distinct().count() == 10_000
    sample = Tenant.objects.get(name="customer-00007")
    assert (sample.language, sample.version.name, sample.scale_unit.name) == ("de", "14.9", "fra-1")
    assert ChangeLogEntry.objects.filter(action="import", object_type="tenant").count() == 10_000


def test_three_bad_lines_import_nothing_and_are_named(run, refs, tmp_path):
    rows = [row(n) for n in range(1000)]
    rows[2] = row(2, partner="Gamma Unknown")  # line 4
    rows[499] = row(499, version="99.1")  # line 501
    rows[900] = row(900, name=rows[10]["name"])  # line 902, same name as line 12
    result = run("import_tenants", write(tmp_path / "bad.csv", rows))
    assert result.code == 1
    assert Tenant.objects.count() == 0
    lines = [line for line in result.err.splitlines() if line.startswith("line ")]
    assert lines == [
        "line 4: partner: no such partner 'Gamma Unknown'",
        "line 501: version: no such software version '99.1'",
        "line 902: name 'customer-00010' is also on line 12",
    ]
    assert "3 line(s) are wrong; nothing was imported." in result.err


def test_each_field_is_checked(run, refs, tmp_path):
    TenantFactory(name="taken", domain="taken.uc.example", partner=refs["a"])
    rows = [
        row(1, language="fr"),
        row(2, notification_email="not-an-address"),
        row(3, is_test="perhaps"),
        row(4, test_until="31.12.2030"),
        row(5, scale_unit="nowhere"),
        row(6, name=""),
        row(7, name="taken"),
        row(8, domain="taken.uc.example"),
        row(9, partner=""),
    ]
    result = run("import_tenants", write(tmp_path / "f.csv", rows))
    assert result.code == 1 and Tenant.objects.count() == 1
    errors = dict(
        line.split(": ", 1) for line in result.err.splitlines() if line.startswith("line ")
    )
    assert errors["line 2"].startswith("language:")
    assert errors["line 3"].startswith("notification_email:")
    assert errors["line 4"] == "is_test: 'perhaps' is not true or false"
    assert errors["line 5"] == "test_until: '31.12.2030' is not a date YYYY-MM-DD"
    assert errors["line 6"] == "scale_unit: no such scale unit 'nowhere'"
    assert errors["line 7"].startswith("name:")
    assert errors["line 8"] == "name 'taken' is not available"
    assert errors["line 9"] == "domain 'taken.uc.example' is not available"
    assert errors["line 10"].startswith("partner:")


def test_header_problems_are_reported_on_line_1(run, refs, tmp_path):
    path = write(tmp_path / "h.csv", [row(1)], header=["name", "colour", "partner"])
    result = run("import_tenants", path)
    assert result.code == 1
    assert "line 1: missing column(s): domain" in result.err
    assert "line 1: unknown column(s): colour" in result.err


def test_a_partner_administrator_imports_for_its_own_partner_only(
    run, refs, tmp_path, partner_admin
):
    path = write(tmp_path / "p.csv", [row(1), row(2, partner="Beta Networks")])
    result = run("import_tenants", path, "--as", partner_admin.username)
    assert result.code == 1
    assert "line 3: partner: no such partner 'Beta Networks'" in result.err
    assert Tenant.objects.count() == 0


def test_check_imports_nothing(run, refs, tmp_path):
    result = run("import_tenants", write(tmp_path / "ok.csv", [row(1)]), "--check")
    assert result.code == 0 and "Every line is right" in result.out
    assert Tenant.objects.count() == 0


def test_unreadable_files_are_refused_clearly(run, refs, tmp_path):
    missing = run("import_tenants", str(tmp_path / "nope.csv"))
    assert missing.code == 1 and "cannot read" in missing.err
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "name,domain,partner\nM\xfcller,m.uc.example,Alpha Telecom\n".encode("latin-1")
    )
    assert "not UTF-8" in run("import_tenants", str(latin)).err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "line 1: the file is empty" in run("import_tenants", str(empty)).err


def test_export_then_import_elsewhere_round_trips(run, refs, tmp_path, a_tenants, b_tenants):
    exported = run("export_tenants", "--partner", "Beta Networks")
    assert exported.code == 0
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    assert [r["name"] for r in rows] == sorted(t.name for t in b_tenants)
    assert rows[0]["instance_id"] == min(b_tenants, key=lambda t: t.name).instance_id
    Tenant.objects.filter(partner=refs["b"]).delete()
    path = tmp_path / "again.csv"
    path.write_text(exported.out, encoding="utf-8")
    assert run("import_tenants", str(path)).code == 0
    again = Tenant.objects.filter(partner=refs["b"]).order_by("name")
    assert [(t.name, t.language, t.notification_email) for t in again] == [
        (t.name, t.language, t.notification_email) for t in sorted(b_tenants, key=lambda t: t.name)
    ]


def test_partner_administrator_exports_only_its_tenants(run, refs, a_tenants, b_tenants):
    admin = AdministratorFactory(username="a2", profile=Profile.PARTNER, partner=refs["a"])
    result = run("export_tenants", "--as", admin.username)
    names = [r["name"] for r in csv.DictReader(io.StringIO(result.out))]
    assert names == sorted(t.name for t in a_tenants)
    assert run("export_tenants", "--as", admin.username, "--partner", "Beta Networks").code == 1


def test_the_ucfleet_command_takes_the_hyphenated_name(refs, tmp_path, capsys):
    path = write(tmp_path / "one.csv", [row(1)])
    assert main(["import-tenants", path]) == 0
    assert "Imported 1 UC tenants." in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["import-tenants", "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "if any line is wrong, nothing is imported" in help_text


def test_import_keeps_the_portal_rules_for_versions_and_scale_units(
    run, refs, tmp_path, partner_admin
):
    path = write(tmp_path / "r.csv", [row(1, version="14.11"), row(2, scale_unit="")])
    result = run("import_tenants", path)
    assert result.code == 1
    assert "line 2: version: '14.11' is marked 'Update prohibited'" in result.err
    result = run(
        "import_tenants", write(tmp_path / "s.csv", [row(3)]), "--as", partner_admin.username
    )
    assert "line 2: scale_unit: only platform administrators" in result.err
    assert Tenant.objects.count() == 0
    assert (
        run(
            "import_tenants",
            write(tmp_path / "t.csv", [row(4, scale_unit="")]),
            "--as",
            partner_admin.username,
        ).code
        == 0
    )


def test_an_empty_version_takes_the_services_default_never_a_prohibited_one(
    run, refs, tmp_path, versions
):
    """The import asks tenants.services for the default version, as the portal does: the
    newest *Use for new UC Tenant* version that updates are not prohibited to."""
    from ucfleet.versions.models import SoftwareVersion

    SoftwareVersion.objects.filter(
        pk__in=[versions["current"].pk, versions["prohibited"].pk]
    ).update(use_for_new=True)
    result = run("import_tenants", write(tmp_path / "v.csv", [row(1, version="")]))
    assert result.code == 0, result.err
    assert Tenant.objects.get(name="customer-00001").version.name == "14.9"
