"""Import UC tenants from CSV: every line is checked first, and nothing is written unless
every line is right (`ucfleet import-tenants`).

The header row names tenant fields (EXPORT_COLUMNS; `name`, `domain` and `partner` are
required). Partners, versions and scale units are given by name (or id). Validation reads
the reference data once and checks uniqueness against the database in chunks, so no line
costs a query; the insert is `bulk_create` in batches inside one transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ucfleet.accounts.actors import Actor
from ucfleet.accounts.choices import Language
from ucfleet.audit.csv import spreadsheet_cell_text
from ucfleet.core import timebounds
from ucfleet.core.chunks import chunks
from ucfleet.core.text import control_character_errors
from ucfleet.tenants.models import ScaleUnit, Tenant
from ucfleet.tenants.queries import partners_visible_to, tenants_visible_to
from ucfleet.tenants.services import EDITABLE_FIELDS, create_tenants, version_for_new_tenant
from ucfleet.versions.queries import versions_visible_to

REQUIRED_COLUMNS = ("name", "domain", "partner")
# The service's editable fields, plus what is fixed at creation and the generated id.
EXPORT_COLUMNS = (
    "name",
    "domain",
    "partner",
    "language",
    "version",
    *(name for name in EDITABLE_FIELDS if name not in ("name", "domain")),
    "instance_id",
)
# Where an export column is read from, when not from the tenant's field of that name.
_EXPORT_SOURCES = {
    "partner": "partner__name",
    "version": "version__name",
    "scale_unit": "scale_unit__name",
}
# instance_id is generated here, never imported: it is exported for reference only.
IMPORT_COLUMNS = frozenset(EXPORT_COLUMNS) - {"instance_id"}
BOOLEAN_DEFAULTS = {
    "is_active": True,
    "auto_update_allowed": True,
    "is_productive": True,
    "is_nfr": False,
    "is_test": False,
}
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


@dataclass
class ImportReport:
    created: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Refs:
    """Partners, versions and scale units by name and by id, read once."""

    def __init__(self, actor: Actor) -> None:
        self.partners = _lookup(partners_visible_to(actor).values_list("id", "name"))
        versions = versions_visible_to(actor)
        self.versions = _lookup(versions.values_list("id", "name"))
        # The service's default (never a prohibited version), and its rule for a given one.
        default = version_for_new_tenant(actor)
        self.version_for_new = default.pk if default is not None else None
        self.prohibited = set(versions.filter(update_prohibited=True).values_list("id", flat=True))
        self.scale_units = _lookup(ScaleUnit.objects.values_list("id", "name"))
        # Placement on scale units is platform infrastructure (as in tenants.services).
        self.may_place = actor.is_platform_admin


def _lookup(rows: Iterable[tuple[int, str]]) -> dict[str, int]:
    """Keys are names and ids (as text); a name wins over an equal id."""
    rows = list(rows)
    return {**{str(pk): pk for pk, _ in rows}, **{name: pk for pk, name in rows}}


@dataclass(frozen=True)
class Row:
    line: int  # where the record starts; the header is line 1
    values: dict[str, str]
    extra_values: int = 0


class UnreadableFile(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.error = LineError(line, reason)


def read_rows(stream: TextIO) -> tuple[list[str], list[Row]]:
    """The header and the non-empty records, each with the line it starts on, so an
    operator finds it in an editor (quoted values may span lines)."""
    reader = csv.reader(stream)
    try:
        header = [column.strip().lower().lstrip("\ufeff") for column in next(reader, [])]
        rows = []
        start = reader.line_num + 1
        for values in reader:
            if any(value.strip() for value in values):
                rows.append(
                    Row(
                        start,
                        dict(zip(header, values, strict=False)),
                        max(0, len(values) - len(header)),
                    )
                )
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFile(reader.line_num, f"not readable as CSV: {exc}") from None
    except UnicodeDecodeError:
        raise UnreadableFile(reader.line_num + 1, "not UTF-8 text") from None
    return header, rows


def check_header(header: list[str]) -> list[LineError]:
    if not header:
        return [LineError(1, "the file is empty; the first line must name the columns")]
    errors = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        errors.append(LineError(1, f"missing column(s): {', '.join(missing)}"))
    unknown = [c for c in header if c not in IMPORT_COLUMNS and c != "instance_id"]
    if unknown:
        errors.append(
            LineError(
                1, f"unknown column(s): {', '.join(unknown)} (known: {', '.join(EXPORT_COLUMNS)})"
            )
        )
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        errors.append(LineError(1, f"column(s) given twice: {', '.join(duplicated)}"))
    return errors


def _boolean(value: str, name: str, problems: list[str]) -> bool:
    text = value.strip().lower()
    if text == "":
        return BOOLEAN_DEFAULTS[name]
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    problems.append(f"{name}: {value!r} is not true or false")
    return BOOLEAN_DEFAULTS[name]


def _tenant_from_row(row: Row, refs: _Refs, problems: list[str]) -> Tenant:
    """A Tenant built from one row; what is wrong with it goes to `problems`.

    References and flags are read here; every other field is checked by the model's own
    field validation, as tenants.services does for one tenant (without its per-row
    uniqueness and foreign-key queries: those are checked for the whole file at once)."""
    value = {
        key: spreadsheet_cell_text((row.values.get(key) or "").strip()) for key in IMPORT_COLUMNS
    }
    if row.extra_values:
        problems.append(f"{row.extra_values} more value(s) than columns")
    partner_id = refs.partners.get(value["partner"])
    if value["partner"] and partner_id is None:
        problems.append(f"partner: no such partner {value['partner']!r}")
    if value["version"]:
        version_id = refs.versions.get(value["version"])
        if version_id is None:
            problems.append(f"version: no such software version {value['version']!r}")
        elif version_id in refs.prohibited:
            problems.append(f"version: {value['version']!r} is marked 'Update prohibited'")
    else:
        version_id = refs.version_for_new
        if version_id is None:
            problems.append("version: empty, and no version is marked 'Use for new UC Tenant'")
    scale_unit_id = None
    if value["scale_unit"] and not refs.may_place:
        problems.append("scale_unit: only platform administrators place tenants on scale units")
    elif value["scale_unit"]:
        scale_unit_id = refs.scale_units.get(value["scale_unit"])
        if scale_unit_id is None:
            problems.append(f"scale_unit: no such scale unit {value['scale_unit']!r}")
    test_until = None
    if value["test_until"]:
        try:
            test_until = date.fromisoformat(value["test_until"])
        except ValueError:
            problems.append(f"test_until: {value['test_until']!r} is not a date YYYY-MM-DD")
        else:
            if not timebounds.is_within(test_until):
                problems.append(f"test_until: {timebounds.out_of_range_message()}")
    flags = {name: _boolean(value[name], name, problems) for name in BOOLEAN_DEFAULTS}
    # Built even when a reference is missing (then it is only checked, never saved).
    references: dict[str, Any] = {"partner_id": partner_id, "version_id": version_id}
    tenant = Tenant(
        **references,
        name=value["name"],
        domain=value["domain"],
        language=value["language"].lower() or Language.EN,
        description=value["description"],
        customer_id=value["customer_id"],
        notification_email=value["notification_email"],
        test_until=test_until,
        scale_unit_id=scale_unit_id,
        **flags,
    )
    try:
        tenant.clean_fields(
            exclude=["partner", "version", "scale_unit", "instance_id", "test_until"]
        )
    except ValidationError as exc:
        for field_name, messages in exc.message_dict.items():
            problems.extend(f"{field_name}: {message}" for message in messages)
    for field_name, messages in control_character_errors(tenant).items():
        problems.extend(f"{field_name}: {message}" for message in messages)
    if not value["partner"] and not any(p.startswith("partner:") for p in problems):
        problems.append("partner: This field cannot be blank.")
    return tenant


def _taken(field_name: str, values: list[str]) -> set[str]:
    """Which of `values` existing tenants already use, platform-wide (names and domains are
    unique across all partners)."""
    taken: set[str] = set()
    lookup = "domain__in" if field_name == "domain" else "name__in"
    for chunk in chunks(sorted(set(values))):
        taken.update(Tenant.objects.filter(**{lookup: chunk}).values_list(field_name, flat=True))
    return taken


def validate_rows(
    actor: Actor, rows: list[Row], *, progress: Progress | None = None
) -> tuple[list[Tenant], list[LineError]]:
    refs = _Refs(actor)
    tenants: list[Tenant] = []
    errors: list[LineError] = []
    lines: list[int] = []
    for index, row in enumerate(rows, start=1):
        problems: list[str] = []
        tenant = _tenant_from_row(row, refs, problems)
        if problems:
            errors.append(LineError(row.line, "; ".join(problems)))
        tenants.append(tenant)
        lines.append(row.line)
        if progress and (index % 1000 == 0 or index == len(rows)):
            progress("checking", index, len(rows))
    for field_name in ("name", "domain"):
        values = [getattr(t, field_name) for t in tenants]
        taken = _taken(field_name, [v for v in values if v])
        first_line: dict[str, int] = {}
        for line, value in zip(lines, values, strict=True):
            if not value:
                continue
            if value in taken:
                errors.append(LineError(line, f"{field_name} {value!r} is not available"))
            elif value in first_line:
                errors.append(
                    LineError(line, f"{field_name} {value!r} is also on line {first_line[value]}")
                )
            else:
                first_line[value] = line
    return tenants, sorted(errors, key=lambda e: e.line)


def _merge_errors(errors: list[LineError]) -> list[LineError]:
    """One entry per line, all of its reasons together."""
    merged: dict[int, list[str]] = {}
    for error in errors:
        merged.setdefault(error.line, []).append(error.reason)
    return [LineError(line, "; ".join(reasons)) for line, reasons in sorted(merged.items())]


def import_tenants(
    actor: Actor, stream: TextIO, *, progress: Progress | None = None, dry_run: bool = False
) -> ImportReport:
    """Check every line of the CSV in `stream`; if all are right (and not `dry_run`), create
    the tenants in one transaction. `actor` is an administrator (a partner administrator
    may import for its own partner only) or the operator (`accounts.actors.OPERATOR`)."""
    try:
        header, rows = read_rows(stream)
    except UnreadableFile as exc:
        return ImportReport(errors=[exc.error])
    header_errors = check_header(header)
    if header_errors:
        return ImportReport(errors=header_errors)
    if not rows:
        return ImportReport(errors=[LineError(2, "no UC tenants in the file")])
    tenants, errors = validate_rows(actor, rows, progress=progress)
    if errors:
        return ImportReport(errors=_merge_errors(errors))
    if dry_run:
        return ImportReport(created=0)
    try:
        with transaction.atomic():
            created = _insert(actor, tenants, progress=progress)
    except IntegrityError as exc:
        # Another writer took a name or domain between our check and the insert.
        return ImportReport(errors=[LineError(0, f"nothing imported: {exc}")])
    return ImportReport(created=created)


def _insert(actor: Actor, tenants: list[Tenant], *, progress: Progress | None) -> int:
    """Through the tenant service, which keeps create_tenant's rules for the batch."""
    total = len(tenants)
    return create_tenants(
        actor,
        tenants,
        progress=(lambda done: progress("importing", done, total)) if progress else None,
    )


def export_rows(actor: Actor, *, partner: Any = None) -> Iterator[list[str]]:
    """The header and one row per tenant visible to `actor`, in the import's format, so an
    export can be edited and imported elsewhere."""
    tenants = tenants_visible_to(actor)
    if partner is not None:
        tenants = tenants.filter(partner_id=partner)
    yield list(EXPORT_COLUMNS)
    rows = tenants.order_by("name").values_list(
        *(_EXPORT_SOURCES.get(column, column) for column in EXPORT_COLUMNS)
    )
    for row in rows.iterator(chunk_size=2000):
        yield [_export_value(v) for v in row]


def _export_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
