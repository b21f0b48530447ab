"""`ucfleet schedule --start` outside core.timebounds: a clear message and a non-zero exit,
never a traceback (issue 9)."""

from __future__ import annotations

from datetime import time

import pytest

from ucfleet.cli import main
from ucfleet.core.timebounds import out_of_range_message
from ucfleet.maintenance.services import SlotInput, update_window
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db

FAR = ["9999-12-31T22:00:00Z", "9999-12-31 23:59", "0001-01-01 00:00", "2101-01-01T00:00:00+00:00"]


@pytest.fixture
def sunday_window(platform_admin):
    """Server time east of UTC (Europe/Berlin): year 1's first hour has no instant there."""
    return update_window(
        platform_admin,
        time_zone="Europe/Berlin",
        slots=[SlotInput(weekdays=[6], start=time(1, 0), duration_minutes=240)],
        expected_task_minutes=30,
    )


def _args(start: str) -> list[str]:
    return [
        "schedule",
        "--all",
        "--timing",
        "custom",
        "--start",
        start,
        "--target-version",
        "14.10",
        "--yes",
    ]


@pytest.mark.parametrize("start", FAR)
def test_schedule_refuses_a_far_start(start, run, platform_admin, a_tenants, sunday_window):
    result = run(*_args(start), "--as", platform_admin.username)
    assert result.code == 1
    assert out_of_range_message() in result.err and "--start" in result.err
    assert not UpdateTask.objects.exists()


@pytest.mark.django_db(transaction=True)  # the command closes the connection when it ends
def test_the_ucfleet_command_exits_non_zero_without_a_traceback(
    capsys, platform_admin, a_tenants, sunday_window
):
    with pytest.raises(SystemExit) as exit_:
        main([*_args("9999-12-31T22:00:00Z"), "--as", platform_admin.username])
    assert exit_.value.code not in (0, None)
    err = capsys.readouterr().err
    assert out_of_range_message() in err
    assert "Traceback" not in err
    assert not UpdateTask.objects.exists()


def test_import_tenants_refuses_a_far_test_end_date(run, partner_a, versions, scale_unit, tmp_path):
    from tests.cli.test_import_tenants import row, write
    from ucfleet.tenants.models import Tenant

    path = write(tmp_path / "t.csv", [row(1, is_test="true", test_until="9999-12-31")])
    result = run("import_tenants", path)
    assert result.code == 1
    assert f"line 2: test_until: {out_of_range_message()}" in result.err, result.err
    assert not Tenant.objects.exists()
