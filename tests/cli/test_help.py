"""Every operator command the `ucfleet` usage lists exists and answers --help."""

from __future__ import annotations

import pytest

from ucfleet.cli import OPERATOR_COMMANDS, main


def test_usage_lists_the_operator_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in OPERATOR_COMMANDS)


@pytest.mark.parametrize("command", sorted(OPERATOR_COMMANDS))
def test_every_operator_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "usage: ucfleet " + command.replace("-", "_") in capsys.readouterr().out
