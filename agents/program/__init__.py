"""Seats played by other programs (see docs/programs.md).

- `py:MODULE:FACTORY`: a Python object loaded by import path (pyload.py);
- a name registered in the `mafia.agents` entry-point group: the same, found by name;
- `cmd:COMMAND`: a separate process per seat speaking JSON lines (wire.py,
  subprocess_player.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from mafia.errors import MafiaError

from mafia.decisions import Player
from mafia.agents.program.pyload import GROUP, build_py_player, entry_point, load_target
from mafia.agents.program.subprocess_player import SubprocessPlayer, parse_command

__all__ = ["GROUP", "is_program_spec", "build_program_player", "check_program_spec",
           "check_log_path"]


def is_program_spec(spec: str) -> bool:
    """`py:...`, `cmd:...`, or a registered name that is not a bundled model or a path."""
    if spec.startswith(("py:", "cmd:")):
        return True
    from mafia.agents.registry import BUNDLED

    if spec in ("random", "heuristic") or spec in BUNDLED or spec.lower().endswith(".gguf"):
        return False
    if os.sep in spec or Path(spec).expanduser().exists():
        return False
    return entry_point(spec) is not None


def build_program_player(spec: str, seed: int, seat: int, *, timeout_s: float,
                         log_path: str | None = None) -> Player:
    if spec.startswith("cmd:"):
        return SubprocessPlayer(spec, parse_command(spec), seed=seed, seat=seat,
                                timeout_s=timeout_s, log_path=log_path)
    return build_py_player(spec, seed, seat)


def check_program_spec(spec: str) -> None:
    """Fail now, with one line, if the spec cannot be loaded (sweeps check before game 1)."""
    if spec.startswith("cmd:"):
        parse_command(spec)
    else:
        load_target(spec)


def check_log_path(path: str) -> None:
    """--program-log must be writable before any bot starts."""
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise MafiaError(f"--program-log: cannot write {path}: {exc.strerror}") from None
