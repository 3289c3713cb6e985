"""`mafia check SPEC`: a bot author's conformance run. The docs' simple bot passes; a bot
that answers outside its options is counted and fails the check (exit 1) unless its rate is
allowed; an empty spec is a user error."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import json

from test_cli import assert_user_error
from test_cli import mafia as cli
from test_programs import readme_example

BAD_BOT = """
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    print(json.dumps({"choice": "Nobody-at-all" if req["options"] else None, "text": ""}),
          flush=True)
"""


def _bot(tmp_path: Path, name: str, source: str) -> str:
    (tmp_path / name).write_text(source)
    return f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(tmp_path / name))}"


def test_the_readme_bot_passes(tmp_path: Path) -> None:
    spec = _bot(tmp_path, "simple_bot.py", readme_example("# simple_bot.py"))
    out = cli("check", spec, "--games", "4", "--seed", "5")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS" in out.stdout and "rule violations" in out.stdout
    got = json.loads(cli("check", spec, "--games", "4", "--seed", "5", "--json").stdout)
    assert got["passed"] and got["violations"] == [] and got["games"] == 4
    assert got["invalid_actions"] == 0 and got["timeouts"] == 0 and got["decisions"] > 20
    assert 0 < got["seconds_per_decision"]["median"] < 10


def test_a_bot_answering_outside_its_options_fails(tmp_path: Path) -> None:
    spec = _bot(tmp_path, "bad_bot.py", BAD_BOT)
    out = cli("check", spec, "--games", "2")
    assert out.returncode == 1 and "FAIL" in out.stdout, out.stdout + out.stderr
    assert "rule violations" in out.stdout and "invalid: " in out.stdout
    got = json.loads(cli("check", spec, "--games", "2", "--json").stdout)
    assert not got["passed"] and got["violations"] == []  # the engine fell back every time
    assert got["invalid_actions"] > 0 and got["invalid_rate"] > 0.5  # all but text-only ones
    allowed = cli("check", spec, "--games", "2", "--max-invalid", "1")
    assert allowed.returncode == 0 and "PASS" in allowed.stdout


def test_the_heuristic_passes_every_seat() -> None:
    out = cli("check", "heuristic", "--games", "7", "--seed", "3")
    assert out.returncode == 0 and "PASS" in out.stdout, out.stdout


def test_a_missing_spec_is_one_error_line() -> None:
    assert_user_error(cli("check", " "), "name the player to check")
