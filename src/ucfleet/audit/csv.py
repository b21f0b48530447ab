"""CSV exports (change log, tenants): cells a spreadsheet shows as text, never runs as formulas.

Descriptions, names and old/new values are typed by administrators; a cell such as
`=HYPERLINK("http://evil","x")` would be live in the spreadsheet that opens the export.
"""

from __future__ import annotations

from typing import Any

# A spreadsheet reads a cell starting with one of these as a formula (or strips the
# whitespace and then does); a leading apostrophe makes it text (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe_cell(value: Any) -> str:
    """`value` as the text of one CSV cell, quoted with `'` where it would start a formula.

    A value that already starts with apostrophes before a formula character gets one more,
    so `spreadsheet_cell_text` restores every value exactly (export, edit, import)."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def spreadsheet_cell_text(cell: str) -> str:
    """The value `spreadsheet_safe_cell` wrote into `cell`."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_START):
        return cell[1:]
    return cell
