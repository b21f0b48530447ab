"""`ucfleet backup` and `ucfleet restore` as real processes: a populated database (demo
data and tasks) survives the round trip with the row count of every table unchanged, on
SQLite and on PostgreSQL; overwriting and restoring under live workers are refused."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from tests.factories import UpdateTaskFactory
from tests.worker.processes import child_env
from ucfleet.demo import seed_demo
from ucfleet.tenants.models import Partner, Tenant
from ucfleet.updates.models import UpdateTask
from ucfleet.versions.models import SoftwareVersion
from ucfleet.worker.registry import register_worker

pytestmark = pytest.mark.django_db(transaction=True)


def ucfleet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ucfleet.cli", *args],
        env=env or child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def row_counts(cursor) -> dict[str, int]:
    tables = connection.introspection.table_names(cursor)
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def populated():
    seed_demo()
    target = SoftwareVersion.objects.order_by("-sort_key").first()
    for tenant in Tenant.objects.exclude(tasks__status__in=["planned", "in_progress"])[:20]:
        UpdateTaskFactory(tenant=tenant, target_version=target)
    with connection.cursor() as cursor:
        counts = row_counts(cursor)
    assert counts["updates_updatetask"] >= 20 and counts["tenants_tenant"] > 20
    return counts


def test_a_backup_restores_every_table_as_it_was(populated, tmp_path):
    target = tmp_path / "ucfleet.backup"
    done = ucfleet("backup", str(target))
    assert done.returncode == 0, done.stderr
    assert f"to {target}" in done.stdout and target.stat().st_size > 0

    # Change the database after the backup: the restore must undo all of it.
    UpdateTask.objects.all().delete()
    Partner.objects.create(name="Made after the backup")
    done = ucfleet("restore", str(target))
    assert done.returncode == 0, done.stderr
    connection.close()
    with connection.cursor() as cursor:
        assert row_counts(cursor) == populated
    assert not Partner.objects.filter(name="Made after the backup").exists()


def test_backup_refuses_to_overwrite_a_file_without_force(populated, tmp_path):
    target = tmp_path / "existing.backup"
    target.write_bytes(b"precious")
    done = ucfleet("backup", str(target))
    assert done.returncode == 1
    assert "exists; use --force to overwrite it" in done.stderr
    assert target.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [target]  # no partial file left behind
    done = ucfleet("backup", "--force", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() != b"precious"


def test_restore_refuses_while_a_worker_is_alive_unless_forced(populated, tmp_path):
    target = tmp_path / "ucfleet.backup"
    assert ucfleet("backup", str(target)).returncode == 0
    register_worker(name="busy-worker", concurrency=1, ttl_seconds=30)
    UpdateTask.objects.all().delete()
    done = ucfleet("restore", str(target))
    assert done.returncode == 1
    assert "workers are alive (busy-worker): stop them first, or use --force" in done.stderr
    assert not UpdateTask.objects.exists()  # nothing was changed
    done = ucfleet("restore", "--force", str(target))
    assert done.returncode == 0, done.stderr
    assert UpdateTask.objects.count() == populated["updates_updatetask"]


def test_restore_refuses_a_file_that_is_no_backup(db, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    done = ucfleet("restore", str(junk))
    assert done.returncode == 1 and "is not a ucfleet backup" in done.stderr
    done = ucfleet("restore", str(tmp_path / "missing.backup"))
    assert done.returncode == 1 and "is not a file" in done.stderr
    done = ucfleet("backup", str(tmp_path / "no" / "such" / "folder.backup"))
    assert done.returncode == 1 and "does not exist" in done.stderr


@pytest.mark.postgres_only
def test_a_postgresql_backup_restores_into_a_scratch_database(populated, tmp_path):
    target = tmp_path / "ucfleet.dump"
    assert ucfleet("backup", str(target)).returncode == 0
    assert target.read_bytes().startswith(b"PGDMP")
    db = connection.settings_dict
    scratch = f"{db['NAME']}_restore"
    admin = dict(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"])
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        server.execute(f'CREATE DATABASE "{scratch}"')
    try:
        env = child_env()
        env["UCFLEET_DATABASE_URL"] = (
            f"postgres://{quote(db['USER'])}@{admin['host']}:{admin['port']}/{quote(scratch)}"
        )
        done = ucfleet("restore", str(target), env=env)
        assert done.returncode == 0, done.stderr
        with psycopg.connect(dbname=scratch, **admin) as restored, restored.cursor() as cursor:
            assert row_counts(cursor) == populated
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_a_backup_of_one_kind_is_refused_by_the_other(db, tmp_path):
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" if connection.vendor == "sqlite" else b"SQLite format 3\x00")
    done = ucfleet("restore", str(other))
    assert done.returncode == 1 and "backup; the configured database is" in done.stderr
