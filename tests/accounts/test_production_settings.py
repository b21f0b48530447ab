"""Production settings (docs/security.md): `check --deploy` is clean with the documented
variables, the demo key is refused in production mode, and the CSP allows no inline script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "src" / "ucfleet"
PRODUCTION = {
    "UCFLEET_ENV": "production",
    "UCFLEET_HTTPS": "1",
    "UCFLEET_SECRET_KEY": "k3V9-pQ2zL8x_Wm4rT6yB1nJ7cF5hD0sA9gE3uI2oP8lK6jH4qZ",
    "UCFLEET_ALLOWED_HOSTS": "ucfleet.example.com",
}


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: the test run's own variables (the suite sets
    # DJANGO_ALLOW_ASYNC_UNSAFE) are no production's.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UCFLEET_", "DJANGO_")) and k != "PYTEST_CURRENT_TEST"
    }
    env.update(UCFLEET_DATA_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_variables(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_warns_without_https(tmp_path):
    variables = {k: v for k, v in PRODUCTION.items() if k != "UCFLEET_HTTPS"}
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **variables)
    assert result.returncode != 0 and "SECURE_HSTS_SECONDS" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "variables",
    [
        {k: v for k, v in PRODUCTION.items() if k != "UCFLEET_SECRET_KEY"},
        {**PRODUCTION, "UCFLEET_SECRET_KEY": "ucfleet-demo-insecure-key-change-me-in-production"},
        {"UCFLEET_HTTPS": "1"},  # HTTPS alone means production too
    ],
)
def test_production_mode_refuses_to_start_on_the_demo_key(tmp_path, variables):
    result = manage(tmp_path, "check", **variables)
    assert result.returncode != 0
    assert "UCFLEET_SECRET_KEY" in result.stderr


def test_the_demo_still_starts_on_the_demo_key(tmp_path):
    assert manage(tmp_path, "check").returncode == 0


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_scripts(client):
    policy = client.get("/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert "frame-ancestors" in directives


def test_no_template_has_an_inline_script_or_handler():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|javascript:", re.IGNORECASE)
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("templates/**/*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert found == []
