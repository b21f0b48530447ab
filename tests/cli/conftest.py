from __future__ import annotations

import io
import sys
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run(monkeypatch) -> Callable[..., Run]:
    """`run("import_tenants", path, stdin="…", tty=False)`: the command's exit status (0, or
    1 for a CommandError), stdout and stderr."""

    def call(*args: str, stdin: str = "", tty: bool = False) -> Run:
        stream = io.StringIO(stdin)
        stream.isatty = lambda: tty  # type: ignore[method-assign]
        monkeypatch.setattr(sys, "stdin", stream)
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(*args, stdout=out, stderr=err)
        except CommandError as exc:
            return Run(1, out.getvalue(), err.getvalue() + str(exc))
        return Run(0, out.getvalue(), err.getvalue())

    return call
