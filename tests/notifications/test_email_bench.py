"""The short form of bench/emails.py: 1,000 customer e-mails of one request through the
worker's sender to a real SMTP server (a child process) — every Message-ID once, over
reused connections. Its speed is the bench's business, not this test's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "emails.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_emails", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.django_db
def test_a_thousand_customer_emails_arrive_once_each_over_reused_connections(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # run() sets SMTP
    result = _bench().run(1000, tmp_path)

    assert result.messages == 1000
    assert (result.lost, result.doubled, result.unexpected) == (0, 0, 0)
    # One connection per housekeeping turn (500 e-mails a call): at most a few in all,
    # not one per batch of the old sender (10 here) or per message.
    assert 1 <= result.connections <= 3
    assert result.floor_connections == 1
