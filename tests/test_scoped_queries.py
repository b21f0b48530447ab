"""Partner isolation (R1) has chokepoints: the portal and the API read through the
`*_visible_to(admin)` / `get_*_for(admin, …)` queries of the domain apps, never through a
model's manager directly. This fails on any unscoped `.objects.` in web/ and api/."""

from __future__ import annotations

import re
from pathlib import Path

import ucfleet

SRC = Path(ucfleet.__file__).parent
MANAGER = re.compile(r"\.objects\.(\w+)")
# What a layer may still say: an empty queryset (DRF's required `queryset` attribute), and
# a Prefetch of the related rows of objects already read through a chokepoint.
ALLOWED_CALLS = {"none"}
PREFETCH = re.compile(r"Prefetch\([^)]*queryset=\w+\.objects\.")
# Known exceptions, each with its reason; none may be added without one.
KNOWN: set[str] = set()


def unscoped_uses() -> list[str]:
    found = []
    for layer in ("web", "api"):
        for path in sorted((SRC / layer).rglob("*.py")):
            relative = path.relative_to(SRC).as_posix()
            if relative in KNOWN or "/migrations/" in relative:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PREFETCH.search(line):
                    continue
                for match in MANAGER.finditer(line):
                    if match.group(1) not in ALLOWED_CALLS:
                        found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_web_and_api_read_only_through_the_scoped_queries():
    assert unscoped_uses() == []


def test_the_check_finds_an_unscoped_query(tmp_path, monkeypatch):
    """The check itself can fail: an unscoped read in a portal module is found."""
    fake = tmp_path / "ucfleet"
    (fake / "web").mkdir(parents=True)
    (fake / "api").mkdir()
    (fake / "web" / "leak.py").write_text("rows = Tenant.objects.filter(name='x')\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", fake)
    assert unscoped_uses() == ["web/leak.py:1: rows = Tenant.objects.filter(name='x')"]
