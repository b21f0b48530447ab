"""CSV exports of the task and tenant lists (R31), shared by the portal's Export CSV
buttons and the API's `?format=csv`: the columns the lists show, every cell formula-safe
(`audit.csv`), times in server time with their offset.

Streamed: rows are read in keyset chunks (`core.keyset`) and written as they come, so an
export of 100,000 tasks holds one chunk in memory, never the whole list.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from ucfleet.audit.csv import spreadsheet_safe_cell
from ucfleet.core.keyset import keyset_rows

CHUNK_ROWS = 2000

# (CSV header, field path) — what the list rows show, plus the ids a script needs.
TASK_COLUMNS = (
    ("id", "id"),
    ("tenant", "tenant__name"),
    ("instance_id", "tenant__instance_id"),
    ("partner", "partner__name"),
    ("task_type", "task_type"),
    ("from_version", "from_version__name"),
    ("target_version", "target_version__name"),
    ("timing", "timing"),
    ("start", "earliest_start"),
    ("latest_start", "latest_start"),
    ("forced", "is_forced"),
    ("redeploy", "redeploy"),
    ("status", "status"),
    ("scheduled_by", "scheduled_by__username"),
    ("created", "created"),
    ("started", "started"),
    ("finished", "finished"),
    ("failure_reason", "failure_reason"),
)
TENANT_COLUMNS = (
    ("id", "id"),
    ("name", "name"),
    ("domain", "domain"),
    ("partner", "partner__name"),
    ("version", "version__name"),
    ("language", "language"),
    ("customer_id", "customer_id"),
    ("notification_email", "notification_email"),
    ("is_active", "is_active"),
    ("auto_update_allowed", "auto_update_allowed"),
    ("is_productive", "is_productive"),
    ("is_nfr", "is_nfr"),
    ("is_test", "is_test"),
    ("test_until", "test_until"),
    ("scale_unit", "scale_unit__name"),
    ("instance_id", "instance_id"),
    ("update_scheduled", "update_scheduled"),
    ("update_recommended", "version__recommend_update"),
)


def export_cell(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()  # server time, with its offset
    if isinstance(value, date):
        return value.isoformat()
    return spreadsheet_safe_cell(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(
    rows: QuerySet[Any], columns: Sequence[tuple[str, str]], zone: ZoneInfo
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in columns])
    for row in keyset_rows(rows, columns=[path for _, path in columns], chunk_size=CHUNK_ROWS):
        yield writer.writerow([export_cell(value, zone) for value in row])
