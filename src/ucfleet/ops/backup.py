"""Backing up and restoring ucfleet's own database (docs/operations.md, "Backup").

SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot
while the portal and workers keep running, and restores the same way, page by page into the
live file. PostgreSQL: `pg_dump -Fc` (custom format) and `pg_restore --clean --if-exists
--single-transaction` (all or nothing). A backup is written to a temporary file beside its
target and moved into place at the end, so a failed run leaves no half-written backup.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

from ucfleet.core.timeutils import now as utcnow
from ucfleet.worker.models import Worker, WorkerStatus

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """Why a backup or restore was refused or failed, in words for the operator."""


@dataclass(frozen=True)
class Database:
    vendor: str  # "sqlite" | "postgresql"
    settings: dict[str, Any]

    @property
    def label(self) -> str:
        if self.vendor == "sqlite":
            return str(self.settings["NAME"])
        host = self.settings.get("HOST") or "localhost"
        return f"{self.settings['NAME']} on {host}:{self.settings.get('PORT') or 5432}"


def configured_database() -> Database:
    return Database(connection.vendor, dict(connection.settings_dict))


def _pg_env(db: Database) -> dict[str, str]:
    env = dict(os.environ)
    values = {
        "PGHOST": db.settings.get("HOST") or "",
        "PGPORT": str(db.settings.get("PORT") or ""),
        "PGUSER": db.settings.get("USER") or "",
        "PGPASSWORD": db.settings.get("PASSWORD") or "",
        "PGDATABASE": db.settings["NAME"],
    }
    env.update({k: v for k, v in values.items() if v})
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client)"
        )
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _move_into_place(partial: Path, target: Path, *, force: bool) -> None:
    if force:
        os.replace(partial, target)
        return
    try:
        os.link(partial, target)  # fails, atomically, if the target appeared meanwhile
    except FileExistsError:
        raise BackupError(f"{target} exists; use --force to overwrite it") from None
    finally:
        partial.unlink(missing_ok=True)


def backup(target: Path, *, force: bool = False) -> Database:
    """Write a consistent copy of the configured database to `target`."""
    db = configured_database()
    if target.is_dir():
        raise BackupError(f"{target} is a folder; name the backup file")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; use --force to overwrite it")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        if db.vendor == "sqlite":
            source = sqlite3.connect(db.settings["NAME"])
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        elif db.vendor == "postgresql":
            _run([_tool("pg_dump"), "--format=custom", f"--file={partial}"], _pg_env(db))
        else:
            raise BackupError(f"no backup for {db.vendor} databases")
        _move_into_place(partial, target, force=force)
    finally:
        partial.unlink(missing_ok=True)
    return db


def live_workers() -> list[str]:
    """Workers with a fresh heartbeat; none in a database that has no ucfleet tables yet
    (restoring into a new, empty database)."""
    ttl = timedelta(seconds=float(settings.UCFLEET["WORKER_TTL_SECONDS"]))
    alive = Worker.objects.filter(status=WorkerStatus.ALIVE, heartbeat__gte=utcnow() - ttl)
    try:
        return list(alive.values_list("name", flat=True))
    except DatabaseError:
        if Worker._meta.db_table in connection.introspection.table_names():
            raise
        return []


def _kind_of(source: Path) -> str:
    with source.open("rb") as stream:
        head = stream.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise BackupError(f"{source} is not a ucfleet backup (neither SQLite nor pg_dump -Fc)")


def _check_sqlite_backup(source: Path) -> None:
    probe = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        [result] = probe.execute("PRAGMA quick_check").fetchone()
        tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} is not a readable SQLite database: {error}") from None
    finally:
        probe.close()
    if result != "ok":
        raise BackupError(f"{source} is damaged: {result}")
    if "django_migrations" not in tables:
        raise BackupError(f"{source} is an SQLite database, but not ucfleet's")


def restore(source: Path, *, force: bool = False) -> Database:
    """Replace the configured database's contents with the backup `source`. Refused while
    workers are alive (they would carry on with tasks the backup does not know), unless
    `force`."""
    db = configured_database()
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    kind = _kind_of(source)
    if kind != db.vendor:
        raise BackupError(f"{source} is a {kind} backup; the configured database is {db.vendor}")
    workers = live_workers()
    if workers and not force:
        raise BackupError(
            f"workers are alive ({', '.join(sorted(workers))}): stop them first, or use --force"
        )
    connection.close()  # nothing of ours holds the database while it is replaced
    if kind == "sqlite":
        _check_sqlite_backup(source)
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(db.settings["NAME"], timeout=30)
        try:
            backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
    else:
        command = [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={db.settings['NAME']}",
            str(source),
        ]
        _run(command, _pg_env(db))
    return db
