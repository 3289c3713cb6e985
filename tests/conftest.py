"""Test setup: import the package from this checkout, and report the harness's speed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("helpers")  # detailed messages from the shared checker

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `pytest` run from elsewhere still tests this checkout
    sys.path.insert(0, str(REPO))


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """One line with the harness's games/second, when the harness ran."""
    helpers = sys.modules.get("helpers")
    if helpers is None or not helpers.HARNESS_STATS["games"]:
        return
    s = helpers.HARNESS_STATS
    rate = s["games"] / s["seconds"] if s["seconds"] else float("inf")
    winners = ", ".join(f"{w} {n}" for w, n in sorted(s["winners"].items()))
    terminalreporter.write_line(
        f"harness: {s['games']} checked games, {s['events']} events in {s['seconds']:.1f} s "
        f"({rate:.0f} games/s); winners: {winners}")
    for config, won in sorted(s["roles"].items()):
        games = sum(won.values())
        spread = ", ".join(f"{w} {n}" for w, n in sorted(won.items()))
        terminalreporter.write_line(f"harness, roles {config}: {games} games; {spread}")
