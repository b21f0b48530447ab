"""Text typed by administrators: control characters are refused before anything is saved.

A tenant name with CR/LF cut the subject of the customer e-mail (a header injection waiting
to happen) and broke lists and CSV exports. Single-line fields (a model's CharField: names,
domains, ids, e-mail addresses, locations) take no control character at all; multi-line
fields (TextField: descriptions, maintenance messages) take line breaks and tabs only.
Lone surrogates are refused everywhere: no database stores them.

Services call `full_clean(instance)` instead of `instance.full_clean()`, or
`refuse_control_characters(field=value, …)` for values that are not model fields yet, so
the portal, the API and the CLI refuse the same input.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from ucfleet.core.errors import Invalid

# Cc: C0 and C1 controls (CR, LF, NUL, ESC, NEL …); Cs: surrogates; Zl/Zp: the Unicode
# line and paragraph separators, which break lines as CR/LF do.
_REFUSED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
_MULTI_LINE_ALLOWED = {"\n", "\r", "\t"}


def control_character_problem(value: str, *, multi_line: bool = False) -> str | None:
    """Why `value` is refused, or None when it is acceptable text."""
    if value.isprintable() and value.isascii():
        return None
    allowed = _MULTI_LINE_ALLOWED if multi_line else set()
    for char in value:
        if char not in allowed and unicodedata.category(char) in _REFUSED_CATEGORIES:
            if multi_line:
                return _("Control characters are not allowed here (line breaks and tabs are).")
            return _("Line breaks and other control characters are not allowed here.")
    return None


def refuse_control_characters(*, multi_line: bool = False, **fields: Any) -> None:
    """Raise Invalid naming every field whose text contains a refused character."""
    errors = {
        name: [problem]
        for name, value in fields.items()
        if isinstance(value, str)
        and (problem := control_character_problem(value, multi_line=multi_line))
    }
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors=errors)


def control_character_errors(
    instance: models.Model, *, exclude: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Field errors for the text fields of `instance` (CharField single-line, TextField
    multi-line), in the shape of ValidationError.message_dict."""
    skipped = set(exclude)
    errors: dict[str, list[str]] = {}
    for field in instance._meta.concrete_fields:
        if field.name in skipped or not isinstance(field, models.CharField | models.TextField):
            continue
        value = getattr(instance, field.attname)
        if not isinstance(value, str):
            continue
        problem = control_character_problem(value, multi_line=isinstance(field, models.TextField))
        if problem:
            errors[field.name] = [problem]
    return errors


def full_clean(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """`instance.full_clean()` plus the control-character check of its text fields; one
    ValidationError carries both kinds of field errors."""
    errors: dict[str, list[ValidationError]] = {
        name: [ValidationError(message, code="control_characters") for message in messages]
        for name, messages in control_character_errors(instance, exclude=exclude or ()).items()
    }
    try:
        # Uniqueness is checked by queries, which PostgreSQL refuses for text with NUL:
        # only text without refused characters gets that far.
        instance.full_clean(
            exclude=list(exclude) if exclude is not None else None,
            validate_unique=not errors,
            validate_constraints=not errors,
        )
    except ValidationError as exc:
        # The errors themselves, not their texts: callers read their codes ("unique").
        for name, items in exc.error_dict.items():
            errors.setdefault(name, []).extend(items)
    if errors:
        raise ValidationError(errors)
