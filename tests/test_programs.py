"""Seats played by other programs: `py:MODULE:FACTORY`, entry-point names, and `cmd:COMMAND`
processes speaking JSON lines. The docs' two examples play whole checked games; bots that
crash, exit, hang, write garbage or answer illegally cost only their decisions (each an
invalid_action with a fallback), are replaced and finally given up on, and leave no process
behind; a bot's requests hold only what its seat may see; loading mistakes are one line."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, check_no_leaks, run_checked
from test_cli import assert_user_error, mafia

from mafia.config import make_rules
from mafia.enums import Role
from mafia.errors import MafiaError
from mafia.events import InvalidAction, Message, event_from_dict

from mafia.agents.program import is_program_spec, pyload
from mafia.agents.program.subprocess_player import MAX_PROCESSES, SubprocessPlayer
from mafia.agents.seating import build_players
from mafia.agents.specs import ModelOptions

RULES = make_rules(players=7, discussion_rounds=4)


def readme_example(first_line: str) -> str:
    """The docs' code block (docs/programs.md) that starts with `first_line`."""
    text = (REPO / "docs" / "programs.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(" + re.escape(first_line) + r".*?)```", text, re.S)
    assert match, f"docs/programs.md has no python block starting {first_line!r}"
    return match.group(1)


@pytest.fixture
def readme_bot(tmp_path: Path) -> str:
    """A cmd: spec running the docs' simple_bot.py."""
    (tmp_path / "simple_bot.py").write_text(readme_example("# simple_bot.py"))
    return f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(tmp_path / 'simple_bot.py'))}"


@pytest.fixture
def py_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The docs' first_option.py, plus some broken factories, importable from tmp_path."""
    (tmp_path / "first_option.py").write_text(readme_example("# first_option.py"))
    (tmp_path / "odd_bots.py").write_text(BROKEN_FACTORIES)
    (tmp_path / "fails_on_import.py").write_text("raise RuntimeError('no luck')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("first_option", "odd_bots", "fails_on_import"):
        sys.modules.pop(name, None)
    return tmp_path


BROKEN_FACTORIES = '''
from mafia.decisions import Answer

NOT_CALLABLE = 42

class SyncBot:
    """A plain (not async) act, no describe."""
    def __init__(self, seed, seat):
        self.seat = seat
    def act(self, request):
        return Answer(request.options[0] if request.options else None, "sync")

def raises(seed, seat):
    raise ValueError("bad config")

class NoAct:
    def __init__(self, seed, seat):
        pass

class BadDescribe(SyncBot):
    def describe(self):
        return ["not", "a", "dict"]
'''


def _program_players(players: list[Any]) -> list[SubprocessPlayer]:
    return [p for p in players if isinstance(p, SubprocessPlayer)]


def assert_no_processes_left(players: list[Any]) -> None:
    """Every process a seat started is gone, reaped (a zombie would still answer kill 0)."""
    pids = [pid for p in _program_players(players) for pid in p.pids]
    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


# ---- py: ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
async def test_readme_py_bot_plays_checked_games(py_module: Path, seed: int):
    players = build_players(["py:first_option:Bot", "random"], RULES.players, seed)
    result, checker = await run_checked(RULES, seed, players)
    header = result.events[0].players[0]["agent"]
    assert header == {"kind": "program", "spec": "py:first_option:Bot",
                      "factory": "first_option:Bot",
                      "info": {"name": "first-option bot", "version": 1}}
    spoke = {e.sender for e in result.events if isinstance(e, Message)
             and e.text.endswith("and I am not mafia.")}
    assert spoke and spoke <= {"Alice", "Carol", "Eve", "Grace"}  # the py: seats


async def test_sync_act_and_no_describe(py_module: Path):
    players = build_players(["py:odd_bots:SyncBot"], RULES.players, 3)
    result, _ = await run_checked(RULES, 3, players)
    assert result.events[0].players[0]["agent"] == {
        "kind": "program", "spec": "py:odd_bots:SyncBot", "factory": "odd_bots:SyncBot"}


async def test_entry_point_names_a_factory(py_module: Path, monkeypatch: pytest.MonkeyPatch):
    registered = [metadata.EntryPoint("mybot", "first_option:Bot", pyload.GROUP),
                  metadata.EntryPoint("broken", "first_option:Nope", pyload.GROUP),
                  metadata.EntryPoint("elsewhere", "first_option:Bot", "other.group")]

    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        return [ep for ep in registered if ep.group == group]

    monkeypatch.setattr(pyload.metadata, "entry_points", entry_points)
    assert is_program_spec("mybot") and is_program_spec("broken")
    assert not is_program_spec("elsewhere") and not is_program_spec("random")
    assert not is_program_spec("gemma3-270m") and not is_program_spec("x.gguf")
    players = build_players(["mybot", "random"], RULES.players, 4)
    result, _ = await run_checked(RULES, 4, players)
    assert result.events[0].players[0]["agent"]["spec"] == "mybot"
    assert result.events[0].players[0]["agent"]["factory"] == "first_option:Bot"
    with pytest.raises(MafiaError, match="broken: loading entry point first_option:Nope"):
        build_players(["broken"], RULES.players, 4)


@pytest.mark.parametrize("spec, message", [
    ("py:nope.missing:X", "no module named 'nope'"),
    ("py:first_option", "expected py:MODULE:FACTORY"),
    ("py:first_option:Nope", "first_option has no attribute 'Nope'"),
    ("py:odd_bots:NOT_CALLABLE", "odd_bots:NOT_CALLABLE is not callable"),
    ("py:odd_bots:raises", "raised ValueError: bad config"),
    ("py:odd_bots:NoAct", "returned NoAct, which has no act"),
    ("py:odd_bots:BadDescribe", "describe() must return a dict"),
    ("py:fails_on_import:X", "importing fails_on_import failed: RuntimeError: no luck"),
    ("cmd:", "no command given"),
    ("cmd:no-such-bot-anywhere --fast", "program not found or not executable"),
    ("cmd:python3 'unbalanced", "cannot split the command"),
])
def test_loading_mistakes_are_one_clear_line(py_module: Path, spec: str, message: str):
    with pytest.raises(MafiaError) as caught:
        build_players([spec], RULES.players, 1)
    text = str(caught.value)
    assert message in text and "\n" not in text and text.startswith(spec)


# ---- cmd: with well-behaved bots -----------------------------------------------------------


async def test_readme_cmd_bot_plays_checked_games_reproducibly(readme_bot: str):
    runs = []
    for _ in range(2):
        players = build_players([readme_bot], RULES.players, 5)
        result, _ = await run_checked(RULES, 5, players)
        assert_no_processes_left(players)
        runs.append([e.model_dump() for e in result.events])
    assert runs[0] == runs[1]
    header = runs[0][0]["players"][0]["agent"]
    assert header["kind"] == "program" and header["spec"] == readme_bot
    assert header["command"] == shlex.split(readme_bot[4:])
    said = [e for e in runs[0] if e["kind"] == "message"]
    assert said and all(e["text"].endswith("and I am not mafia.") for e in said)



async def test_the_two_readme_bots_play_the_same_game(py_module: Path, readme_bot: str):
    """The docs' Python and JSON-lines bots follow one strategy: through the wire, the
    same seed gives the same game, event for event (the header's agents aside)."""
    games = []
    for spec in ("py:first_option:Bot", readme_bot):
        players = build_players([spec, "random"], RULES.players, 7)
        result, _ = await run_checked(RULES, 7, players)
        games.append([e.model_dump(exclude={"players"}) for e in result.events])
    assert games[0] == games[1]

# A bot for the tests below: `bot.py MODE LOGDIR`. It logs its pid, each request and what it
# did with it, and misbehaves as MODE says; otherwise it picks an option by request number.
TEST_BOT = r'''
import json, os, signal, sys, time

mode, logdir = sys.argv[1], sys.argv[2]
me = os.environ["MAFIA_PLAYER"]

def log(name, text):
    with open(os.path.join(logdir, f"{me}.{name}"), "a") as f:
        f.write(text + "\n")

log("pids", str(os.getpid()))
# one write per line: the bots share the log file (O_APPEND), and print() writes the text and
# its newline separately, so two bots' lines could interleave on a busy machine
sys.stderr.write(f"{me} seed {os.environ['MAFIA_SEED']} seat {os.environ['MAFIA_SEAT']}\n")
if mode == "crash":
    sys.exit(3)
answered = 0
for line in sys.stdin:
    req = json.loads(line)
    log("requests", line.strip())
    i, options = req["request"], req["options"]
    pick = options[(req["seed"] + req["seat"] + i) % len(options)] if options else None
    answer, outcome = json.dumps({"choice": pick, "text": "Hello from " + me}), "ok"
    if mode == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL ends it
        time.sleep(3600)
    if mode == "slow" and i == 1:
        time.sleep(1.2)  # past the timeout, but well before the next request's ends
        outcome = "late"
    if mode == "garbage" and i % 2 == 0:
        answer = ["not json", "[1, 2]", '{"choice": 5}', '{"text": 7}', ""][i // 2 % 5]
        outcome = "garbage"
    if mode == "illegal":
        answer = json.dumps({"choice": "Nobody" if options else me, "text": "hi"})
        outcome = "illegal"
    print(answer, flush=True)
    log("answers", f"{i} {outcome}")
    answered += 1
    if mode == "exit" and answered == 2:
        sys.exit(0)
'''


def bot_spec(tmp_path: Path, mode: str) -> str:
    script = tmp_path / "bot.py"
    script.write_text(TEST_BOT)
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    return " ".join(["cmd:" + shlex.quote(sys.executable), shlex.quote(str(script)), mode,
                     shlex.quote(str(logs))])


def bot_log(tmp_path: Path, player: str, name: str) -> list[str]:
    path = tmp_path / "logs" / f"{player}.{name}"
    return path.read_text().splitlines() if path.exists() else []


async def test_requests_hold_only_what_the_seat_may_see(tmp_path: Path):
    """Every seat a logging bot: each request is that seat's own view, whole and nothing
    more (no role, DM, mafia message or night action of others), and says who it is."""
    rules = make_rules(players=7, discussion_rounds=4, allow_abstain=True)
    log_file = tmp_path / "bots.log"
    players = build_players([bot_spec(tmp_path, "ok")], rules.players, 6,
                            ModelOptions(program_log=str(log_file)))
    result, checker = await run_checked(rules, 6, players)
    assert_no_processes_left(players)
    roles = result.state.roles
    dms = [e for e in result.events if isinstance(e, Message) and e.channel == "dm"]
    assert dms, "no DMs: the check below would prove little"
    for seat, name in enumerate(result.state.seats):
        sent = [json.loads(line) for line in bot_log(tmp_path, name, "requests")]
        asked = [r for r in checker.requests if r.player == name]
        assert [r["request"] for r in sent] == [r.index for r in asked]
        for wire, request in zip(sent, asked):
            events = [event_from_dict(e) for e in wire["events"]]
            check_no_leaks(name, roles[name], events)
            assert events == list(request.observation.events)
            seen = [e for e in result.events if e.visible_for(name) and e.seq <= events[-1].seq]
            assert events == seen  # the whole view up to now, in order
            obs = request.observation
            assert wire["player"] == name and wire["seat"] == seat and wire["seed"] == 6
            assert wire["role"] == roles[name].value
            assert wire["teammates"] == list(obs.teammates)
            assert (roles[name] is Role.MAFIA) == bool(obs.teammates)
            assert wire["options"] == [str(o) for o in request.options]
            assert wire["decision"] == request.kind.value and wire["alive"] == list(obs.alive)
            assert wire["timeout_s"] == 10.0 and wire["max_chars"] == rules.max_message_chars
            assert wire["rules"] == rules.model_dump(mode="json")
    # Each bot started at its seat's first request (a seat never asked has none).
    asked_seats = {r.player for r in checker.requests}
    stderr = log_file.read_text().splitlines()
    assert sorted(stderr) == sorted(f"{n} seed 6 seat {i}"
                                    for i, n in enumerate(result.state.seats) if n in asked_seats)


# ---- cmd: with misbehaving bots ------------------------------------------------------------


async def _play_one_bad_seat(tmp_path: Path, mode: str, seed: int, timeout_s: float
                             ) -> tuple[SubprocessPlayer, list[int], list[InvalidAction], set[int]]:
    """Alice is the bad bot, everyone else random. Returns Alice's player, her request
    numbers, her invalid actions and the requests her bot answered properly."""
    players = build_players([bot_spec(tmp_path, mode)] + ["random"] * 6, RULES.players, seed,
                            ModelOptions(program_timeout=timeout_s))
    started = time.perf_counter()
    result, checker = await run_checked(RULES, seed, players, allow_invalid=True)
    assert time.perf_counter() - started < 10
    assert result.events[-1].kind == "game_over"
    assert_no_processes_left(players)
    assert all(e.player == "Alice" for e in checker.invalid)
    asked = [r.index for r in checker.requests if r.player == "Alice"]
    answers = [line.split() for line in bot_log(tmp_path, "Alice", "answers")]
    good = {int(i) for i, outcome in answers if outcome == "ok"}
    bad = players[0]
    assert isinstance(bad, SubprocessPlayer)
    return bad, asked, checker.invalid, good


@pytest.mark.parametrize("mode, timeout_s, replaced, error", [
    ("crash", 5.0, True, "the program exited (exit status 3)"),
    ("exit", 5.0, True, "the program exited (exit status 0)"),
    ("hang", 0.25, True, "no answer within 0.25 s"),
    ("garbage", 5.0, False, "not JSON"),
    ("illegal", 5.0, False, "is not a legal option"),
    ("slow", 1.0, False, "no answer within 1 s"),
])
async def test_misbehaving_bot_costs_only_its_decisions(
        tmp_path: Path, mode: str, timeout_s: float, replaced: bool, error: str):
    # Seed 1: Alice lives long enough (13+ requests) for a bad bot to be given up on.
    bad, asked, invalid, good = await _play_one_bad_seat(tmp_path, mode, 1, timeout_s)
    assert len(asked) >= 13
    # Exactly the decisions the bot did not answer properly fell back.
    assert sorted(e.request for e in invalid) == sorted(set(asked) - good)
    assert invalid and good | {e.request for e in invalid} == set(asked)
    assert any(error in e.error for e in invalid), [e.error for e in invalid]
    if replaced:  # failed processes were replaced, up to the limit, then given up on
        assert len(bad.pids) == MAX_PROCESSES and bad.gave_up is not None
        assert invalid[-1].error.startswith("player raised ProgramError: gave up on the program")
    else:  # one process for the whole game: its failures never came 3 in a row
        assert len(bad.pids) == 1 and bad.gave_up is None
    if mode == "slow":  # the late answer was skipped, not taken for the next request's
        assert [e.request for e in invalid] == [1] and good == set(asked) - {1}


# ---- the command line ----------------------------------------------------------------------


def test_cli_plays_a_cmd_bot(tmp_path: Path, readme_bot: str):
    out = tmp_path / "game.jsonl"
    proc = mafia("play", "--agents", readme_bot, "--seed", "1", "--quiet", "--out", str(out),
                 cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and len(proc.stdout.splitlines()) == 1
    header = json.loads(out.read_text().splitlines()[0])
    assert {p["agent"]["kind"] for p in header["players"]} == {"program"}
    assert '"kind":"invalid_action"' not in out.read_text()


@pytest.mark.parametrize("args, named", [
    (["--agents", "py:nope.missing:X"], ["py:nope.missing:X", "no module named"]),
    (["--agents", "cmd:no-such-bot-anywhere"], ["not found"]),
    (["--agents", "random", "--program-timeout", "0"], ["--program-timeout"]),
    (["--agents", "cmd:python3 x.py", "--program-log", "/no/such/dir/bots.log"],
     ["--program-log"]),
])
def test_cli_program_mistakes_are_one_line(tmp_path: Path, args: list[str], named: list[str]):
    proc = mafia("play", *args, "--seed", "1", "--quiet", "--out", str(tmp_path / "g.jsonl"))
    assert_user_error(proc, *named)


def test_ctrl_c_ends_the_bots(tmp_path: Path):
    """SIGINT to `mafia` alone (not its process group): it still ends every bot it started."""
    spec = bot_spec(tmp_path, "hang")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    game = subprocess.Popen(
        [sys.executable, "-m", "mafia", "play", "--agents", spec, "--seed", "4", "--quiet",
         "--program-timeout", "60", "--out", str(tmp_path / "g.jsonl")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 20
    while not _pids(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the game waits on a bot that hangs, ignoring SIGTERM
    game.send_signal(signal.SIGINT)
    _, err = game.communicate(timeout=20)
    assert game.returncode == 130, err
    assert "Traceback" not in err.decode()
    pids = _pids(tmp_path)
    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _pids(tmp_path: Path) -> list[int]:
    return [int(line) for path in (tmp_path / "logs").glob("*.pids")
            for line in path.read_text().split()]
