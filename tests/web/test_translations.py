"""Every label and message exists in German (§9): the catalogue is complete and compiled."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

import ucfleet

LOCALE = Path(ucfleet.__file__).parent / "locale" / "de" / "LC_MESSAGES"


def _po_entries() -> list[tuple[str, list[str], bool]]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in re.split(r"\n\s*\n", text.strip())[1:]:
        fuzzy = "#, fuzzy" in block or re.search(r"^#,.*fuzzy", block, re.M) is not None
        msgid = "".join(
            re.findall(
                r'^(?:msgid|msgid_plural)?\s*"(.*)"$',
                block.split("msgid_plural")[0].split("msgstr")[0],
                re.M,
            )
        )
        strings = re.split(r"^msgstr(?:\[\d\])? ", block, flags=re.M)[1:]
        msgstrs = ["".join(re.findall(r'"(.*)"', s)) for s in strings]
        entries.append((msgid, msgstrs, fuzzy))
    return entries


def test_every_message_has_a_german_translation():
    entries = _po_entries()
    assert len(entries) > 400
    untranslated = [m for m, strs, fuzzy in entries if fuzzy or not all(strs)]
    assert untranslated == []


def test_compiled_catalogue_matches_the_po_file():
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    # The compiled file holds every entry of the .po (plural entries count once).
    compiled = {k if isinstance(k, str) else k[0] for k in catalogue._catalog if k}
    assert len(compiled) == len(_po_entries())


@pytest.mark.parametrize(
    ("english", "german"),
    [
        ("Immediately", "Sofort"),
        ("Maintenance window (server time)", "Wartungsfenster (Serverzeit)"),
        ("Custom time", "Benutzerdefinierte Zeit"),
        ("Target software version", "Ziel-Softwareversion"),
        ("Forced update", "Update erzwingen"),
        ("Redeployment", "Neubereitstellung"),
        ("Send E-mail", "E-Mail senden"),
        ("Send e-mail (customer)", "E-Mail senden (Kunde)"),
        ("planned", "geplant"),
        ("in progress", "in Bearbeitung"),
        ("executed", "ausgeführt"),
        ("failed", "fehlgeschlagen"),
        (
            "Compatibility with older versions cannot be guaranteed.",
            "Die Kompatibilität mit älteren Versionen kann nicht garantiert werden.",
        ),
    ],
)
def test_manual_labels_in_german(english, german):
    with translation.override("de"):
        assert translation.gettext(english) == german
