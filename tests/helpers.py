"""Shared test machinery: building games, servers and sweeps for the tests. The checker that
validates a game event by event is part of the package (`mafia.checker`, also behind `mafia
check`); its names are imported here for the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mafia.checker import (
    CheckedPlayer, GameChecker, RequestCheckFailed, check_no_leaks, run_checked,
)
from mafia.config import Rules
from mafia.engine import Engine, GameResult

from mafia.agents.backends.fake import ScriptedBackend
from mafia.agents.random_player import RandomPlayer

# Re-exported for the tests (the checker moved into the package).
__all__ = ["CheckedPlayer", "GameChecker", "RequestCheckFailed", "check_no_leaks", "run_checked",
           "HARNESS_STATS", "LegalBackend", "REPO", "Timer", "free_port", "interrupted_sweep", "llama_server",
           "play", "random_players"]

REPO = Path(__file__).resolve().parents[1]

# Filled by the harness, printed by conftest's terminal summary.
HARNESS_STATS: dict[str, Any] = {"games": 0, "seconds": 0.0, "events": 0,
                                  "winners": Counter(),
                                  "roles": defaultdict(Counter)}  # role config -> winners



class LegalBackend(ScriptedBackend):
    """A fake model that picks any legal option (seeded by the call) and says a fixed line;
    every prompt it read is kept in `prompts`."""

    async def choose(self, prompt: str, options: Any, *, seed: int, temperature: float) -> Any:
        import random
        self.choices.append(random.Random(seed).randrange(len(options)))
        return await super().choose(prompt, options, seed=seed, temperature=temperature)

    async def complete(self, prompt: str, **kw: Any) -> Any:
        self.texts.append("I have my reasons.")
        return await super().complete(prompt, **kw)


def random_players(rules: Rules, seed: int) -> list[RandomPlayer]:
    return [RandomPlayer(seed, seat) for seat in range(rules.players)]


async def play(rules: Rules, seed: int, players: Sequence[Any] | None = None,
               **kwargs: Any) -> GameResult:
    """One unchecked game (random players unless given)."""
    players = list(players) if players is not None else random_players(rules, seed)
    return await Engine(rules, seed, players, **kwargs).run()


class Timer:
    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start



def interrupted_sweep(args: Sequence[str], folder: Path, after: int, wait_s: float = 60,
                      env: dict[str, str] | None = None) -> str:
    """Run `mafia sweep ARGS --out FOLDER`, send SIGTERM once `after` games are written (or
    `wait_s` has passed), check it stopped as an interrupted sweep should (exit 130, the
    resume hint) and return its stderr."""
    cmd = [sys.executable, "-m", "mafia", "sweep", *args, "--out", str(folder)]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO),
                                                **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + wait_s
    while len(list(folder.glob("game-*.jsonl"))) < after and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    return err


# ---- llama-cpp-python's OpenAI-compatible server, on loopback ---------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def llama_server(args: Sequence[str], port: int) -> Iterator[str]:
    """`python -m mafia.agents.backends.serve ARGS` (llama-cpp-python's server, loading models as
    the in-process backend does) until it answers; yields its /v1 URL, then stops it."""
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "mafia.agents.backends.serve", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(url + "/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("llama_cpp.server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
