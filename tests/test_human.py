"""The human seat (`mafia play --human`): the Textual app played whole games by keys (as
mafia, detective and villager), nothing shown that the seat may not see (every line the other
seats say is a unique marker), the line mode through a real pipe (numbers, option texts, bad
answers asked again once, end of input), the person's own time limit, and the CLI's checks."""

from __future__ import annotations

import asyncio
import html
import io
import os
import queue
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import RichLog
from textual.widgets import Input
from helpers import REPO, GameChecker, random_players

from mafia.config import SEAT_NAMES, Rules, make_rules
from mafia.decisions import Answer, DayAction, Request
from mafia.engine import Engine, run_game
from mafia.enums import DecisionKind, Phase, Role
from mafia.events import (
    BaseEvent, GameOver, InvalidAction, InvestigationResult, LastWords, Message, NightAction,
    PhaseStarted, PlayerDied, RoleAssigned, VoteCast,
)
from mafia.report.load import load_games
from mafia.rules import deal_roles
from mafia.transcript import read_transcript

from mafia.agents.human.app import Dialog, HumanApp
from mafia.agents.human.game import build_engine, play_human
from mafia.agents.human.lines import LineFrontEnd, StdinLines
from mafia.agents.human.options import match, menu
from mafia.agents.human.seat import HumanPlayer, draw_seat
from mafia.agents.random_player import RandomPlayer

MARKER = re.compile(r"\b(?:mk\d+x\d+q|hu\d+q)\b")
ROLE_LABEL = re.compile(r"\b(" + "|".join(SEAT_NAMES[:16]) +
                        r") \((mafia|villager|doctor|detective|town)\)")


class MarkerPlayer:
    """A random player whose every line is a marker unique to its seat and request."""

    def __init__(self, seed: int, seat: int) -> None:
        self.inner, self.seat = RandomPlayer(seed, seat), seat

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    async def act(self, request: Request) -> Answer:
        answer = await self.inner.act(request)
        if not answer.text:
            return answer
        return Answer(answer.choice, f"mk{self.seat}x{request.index}q")


def marker_players(rules: Rules, seed: int) -> list[MarkerPlayer]:
    return [MarkerPlayer(seed, i) for i in range(rules.players)]


def seat_with(rules: Rules, role: Role, skip: int = 0) -> tuple[int, str]:
    """A seed and a seat that the seed's deal makes `role`, and that random play leaves
    alive after the first night (so the person gets to play a day)."""
    for seed in range(skip, 1000):
        seats = [s for s, r in deal_roles(rules, seed).items() if r is role]
        if not seats:
            continue
        seat = seats[seed % len(seats)]
        with ThreadPoolExecutor(1) as pool:  # run_game needs a thread without a running loop
            events = pool.submit(run_game, Engine(rules, seed, random_players(rules, seed))
                                 ).result().events
        if not any(isinstance(e, PlayerDied) and e.player == seat and e.day == 1
                   and e.cause == "night" for e in events):
            return seed, seat
    raise AssertionError(role)


def texts(events: list[BaseEvent], seat: str | None = None) -> set[str]:
    """Markers said in `events` (those `seat` may see, when given)."""
    out: set[str] = set()
    for e in events:
        if isinstance(e, (Message, LastWords)) and (seat is None or e.visible_for(seat)):
            out.update(MARKER.findall(e.text))
    return out


def known_roles(events: list[BaseEvent], seat: str) -> set[tuple[str, str]]:
    """(player, label) pairs the seat may see next to a name, from its visible events."""
    known: set[tuple[str, str]] = set()
    for e in events:
        if not e.visible_for(seat):
            continue
        if isinstance(e, RoleAssigned):
            known.add((e.player, e.role))
            known.update((m, "mafia") for m in e.teammates)
        elif isinstance(e, InvestigationResult):
            known.add((e.target, e.result))
        elif isinstance(e, PlayerDied):
            known.update((e.player, x) for x in (e.role, e.team and e.team.value) if x)
    return known


def screen_text(app: HumanApp) -> str:
    """The text of the screen as rendered now (from Textual's SVG screenshot)."""
    svg = app.export_screenshot()
    found = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    return "".join(html.unescape(t) for t in found).replace("\xa0", " ")


def log_text(app: HumanApp, widget: str) -> str:
    return "\n".join(strip.text for strip in app.query_one(widget).lines)  # type: ignore[attr-defined]


async def until(pilot: Any, cond: Callable[[], bool], limit: float = 15.0) -> None:
    start = time.monotonic()
    while not cond():
        assert pilot.app.error is None, pilot.app.error
        assert time.monotonic() - start < limit, "the app did not get there in time"
        await asyncio.sleep(0.001)  # the app and the engine run on this loop meanwhile


async def type_text(pilot: Any, app: HumanApp, text: str, index: int) -> None:
    """Type `text` and Enter: key by key for a seat's first requests, later pasted (each
    simulated key costs the pilot two idle waits)."""
    if index < 6:
        await pilot.press(*text)
    else:
        app.query_one("#speech", Input).insert_text_at_cursor(text)
    await pilot.press("enter")


Strategy = Callable[[Any, HumanApp, random.Random], Awaitable[Any]]


async def by_keys(pilot: Any, app: HumanApp, rng: random.Random) -> Any:
    """Answer the pending request by keys: a choice's number or arrows and Enter; a DM or a
    public message now and then; a marker as every text typed; Esc back to the menu once."""
    request = app.request
    assert request is not None
    choices = menu(request)
    said = f"hu{request.index}q"
    if not request.options:
        await type_text(pilot, app, said, request.index)
        return said
    if request.kind is DecisionKind.DAY_ACTION:
        dms = [i for i, c in enumerate(choices) if c.speech not in (None, "everyone")]
        pick = rng.choice(dms or [0]) if rng.random() < 0.5 else rng.randrange(len(choices))
    else:
        pick = rng.randrange(len(choices))
    if rng.random() < 0.5:
        await pilot.press(choices[pick].key)
    else:
        await pilot.press(*["down"] * pick, "enter")
    if choices[pick].speech is None:
        return choices[pick].option
    await until(pilot, lambda: app.query_one("#speech").display)
    if request.index % 4 == 1:  # change of mind once in a while: back to the menu, same pick
        await pilot.press("escape")
        await until(pilot, lambda: app.query_one("#choices").display)
        await pilot.press(*["down"] * pick, "enter")
        await until(pilot, lambda: app.query_one("#speech").display)
    await type_text(pilot, app, said, request.index)
    return choices[pick].option, said


async def play_app(rules: Rules, seed: int, seat: str, strategy: Strategy | None = by_keys,
                   timeout_s: float | None = None) -> dict[str, Any]:
    """One whole game in the headless app; what was shown, answered and emitted."""
    checker = GameChecker(rules, allow_invalid=True)
    app = HumanApp(seat, Path("game.jsonl"), timeout_s)
    app.game = build_engine(rules, seed, marker_players(rules, seed), seat, app, [checker],
                            timeout_s).run
    rng = random.Random(seed)
    screens: list[tuple[int, str]] = []  # (events emitted so far, the screen's text)
    answers: list[tuple[Request, Any]] = []
    async with app.run_test(size=(100, 32)) as pilot:
        while True:
            await until(pilot, lambda: app.request is not None or isinstance(app.screen, Dialog),
                        limit=30.0)
            screens.append((len(checker.events), screen_text(app)))
            if isinstance(app.screen, Dialog):
                break
            request = app.request
            assert request is not None
            if strategy is None:
                await until(pilot, lambda: app.request is not request)
                continue
            answers.append((request, await strategy(pilot, app, rng)))
            await until(pilot, lambda: app.request is not request)
            if len(answers) % 3 == 0:
                screens.append((len(checker.events), screen_text(app)))
        shown = {pane: log_text(app, f"#{pane}") for pane in ("log", "mafia")}
        shown["dms"] = "\n".join(str(r) for rs in app.view.dms.values() for r in rs)
        await pilot.press("enter")
    assert app.result is not None and app.return_value is app.result
    checker.finish(app.result)
    return {"app": app, "events": checker.events, "screens": screens, "answers": answers,
            "shown": shown}


def check_shown(seat: str, role: Role, got: dict[str, Any]) -> None:
    """Every marker and role label on any screen was visible to the seat when shown; the
    panes hold every visible marker and no other; no night action of others shows."""
    events = got["events"]
    visible, everything = texts(events, seat), texts(events)
    assert everything - visible, "the game had messages the seat may not see"
    for n, screen in got["screens"]:
        leaked = set(MARKER.findall(screen)) - visible
        assert not leaked, f"{seat} was shown {leaked}"
        if not any(isinstance(e, GameOver) for e in events[:n]):
            labels = set(ROLE_LABEL.findall(screen)) - known_roles(events[:n], seat)
            assert not labels, f"{seat} was shown roles {labels}"
        if role is not Role.MAFIA:
            assert "[mafia]" not in screen and "wants to kill" not in screen
            assert "The mafia choose" not in screen
        for verb in ("protects", "investigates"):
            assert all(line.startswith(seat) for line in re.findall(rf"\w+ {verb}", screen))
    shown = "\n".join(got["shown"].values())
    assert set(MARKER.findall(shown)) == visible, "everything visible is shown, nothing else"


@pytest.mark.parametrize("role", [Role.MAFIA, Role.DETECTIVE, Role.VILLAGER])
async def test_app_plays_whole_games_by_keys(role: Role):
    rules = make_rules()
    seed, seat = seat_with(rules, role)
    got = await play_app(rules, seed, seat)
    events, answers = got["events"], got["answers"]
    assert events[-1].kind == "game_over"
    assert events[0].players[SEAT_NAMES.index(seat)]["agent"] == {"kind": "human",  # type: ignore[attr-defined]
                                                                   "spec": "human"}
    kinds = {r.kind for r, _ in answers}
    assert DecisionKind.VOTE in kinds and DecisionKind.DAY_ACTION in kinds
    if role is Role.MAFIA:
        assert DecisionKind.KILL in kinds
    if role is Role.DETECTIVE:
        assert DecisionKind.INVESTIGATE in kinds
    mine = [e for e in events if getattr(e, "player", None) == seat
            or getattr(e, "voter", None) == seat or getattr(e, "actor", None) == seat
            or getattr(e, "sender", None) == seat]
    assert not [e for e in mine if isinstance(e, InvalidAction)], "every key answer was legal"
    # Each answer is in the transcript as given: votes, night targets, messages and DMs.
    votes = [e.target for e in mine if isinstance(e, VoteCast)]
    assert votes == [a for r, a in answers if r.kind is DecisionKind.VOTE]
    night = [e.target for e in mine if isinstance(e, NightAction) and e.actor == seat]
    assert night == [a for r, a in answers if r.kind in (DecisionKind.KILL,
                                                         DecisionKind.INVESTIGATE)]
    sent = {e.text: e for e in mine if isinstance(e, (Message, LastWords))}
    for request, answer in answers:
        if isinstance(answer, tuple):
            option, said = answer
            assert said in sent, (request.kind, said)
            if isinstance(option, DayAction) and option.action == "dm":
                assert sent[said].recipient == option.to  # type: ignore[union-attr]
                assert said in got["shown"]["dms"], "a DM sent shows in its conversation"
    assert any(isinstance(e, Message) and e.recipient for e in mine), "the test sent a DM"
    check_shown(seat, role, got)
    last = got["screens"][-1][1]
    assert "Game over" in last and "Transcript: game.jsonl" in last


@pytest.mark.parametrize("discussion,role", [
    ("round_robin", Role.DOCTOR), ("bidding", Role.VILLAGER), ("clock", Role.MAFIA),
])
async def test_app_in_every_protocol(discussion: str, role: Role):
    rules = make_rules(discussion=discussion, discussion_turns=4, clock_decisions_per_day=3,
                       typing_events=True)
    seed, seat = seat_with(rules, role, skip=7)
    got = await play_app(rules, seed, seat)
    kinds = {r.kind for r, _ in got["answers"]}
    assert DecisionKind.VOTE in kinds
    if discussion == "bidding":
        assert DecisionKind.BID in kinds
    if role is Role.DOCTOR:
        assert DecisionKind.PROTECT in kinds
    if discussion == "clock":  # the status line shows the day's simulated time
        assert any(re.search(r"Day \d+ · \d+\.\d s", screen) for _, screen in got["screens"])
    check_shown(seat, role, got)


def test_the_status_line_names_nobody_alone():
    from mafia.agents.human.view import SeatView

    view = SeatView("Alice")
    view.seats = tuple(SEAT_NAMES[:5])
    view.phase = Phase.NIGHT
    assert view.thinking(frozenset(view.seats)) == ""  # at night: nothing at all
    view.phase = Phase.DAY
    assert view.thinking(frozenset({"Bob"})) == ""  # one seat alone: never named
    assert view.thinking(frozenset(view.seats)) == "everyone is thinking"


async def test_page_keys_scroll_the_chat_and_it_stays_put_while_scrolled_up():
    app = HumanApp("Alice", Path("game.jsonl"))
    async with app.run_test(size=(100, 32)) as pilot:
        log = app.query_one("#log", RichLog)
        for i in range(200):
            log.write(f"line {i}")
        await pilot.pause()
        bottom = log.max_scroll_y
        assert bottom > 0 and log.scroll_y == bottom
        await pilot.press("pageup", "pageup")
        await pilot.pause()
        up = log.scroll_y
        assert up < bottom and not log.auto_scroll
        log.write("a new message")
        await pilot.pause()
        assert log.scroll_y == up  # reading back is not interrupted
        await pilot.press(*["pagedown"] * 10)
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y and log.auto_scroll
        log.write("another")
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y  # following the chat again


async def test_human_timeout_falls_back_in_the_app():
    rules = make_rules()
    seed, seat = seat_with(rules, Role.MAFIA)
    got = await play_app(rules, seed, seat, strategy=None, timeout_s=0.02)
    invalid = [e for e in got["events"] if isinstance(e, InvalidAction)]
    assert invalid and all(e.player == seat for e in invalid)
    assert {e.error for e in invalid} == {"no answer within 0.02 s (human)"}
    assert "no answer within 0.02 s (human)" in got["shown"]["log"]


class Silent:
    """A front end whose person never answers."""

    def show(self, event: BaseEvent) -> None:
        pass

    def waiting(self, who: frozenset[str]) -> None:
        pass

    async def answer(self, request: Request) -> Answer:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_human_timeout_is_an_invalid_action_with_the_fallback():
    rules = make_rules()
    checker = GameChecker(rules, allow_invalid=True)
    players = marker_players(rules, 3)
    engine = build_engine(rules, 3, players, "Carol", Silent(), [checker], timeout_s=0.01,
                          others_timeout_s=5.0)
    result = await engine.run()
    checker.finish(result)
    asked = engine.asked["Carol"]
    invalid = [e for e in result.events if isinstance(e, InvalidAction)]
    assert asked and len(invalid) == asked
    assert all(e.player == "Carol" and e.error == "no answer within 0.01 s (human)"
               for e in invalid)
    assert isinstance(engine.players["Carol"], HumanPlayer)


def test_line_mode_shows_only_what_the_seat_sees():
    rules = make_rules()
    for role in (Role.VILLAGER, Role.MAFIA, Role.DETECTIVE):
        seed, seat = seat_with(rules, role, skip=11)
        out = io.StringIO()
        front = LineFrontEnd(seat, StdinLines(io.StringIO("1\n" * 400)), out)
        checker = GameChecker(rules, allow_invalid=True)
        result = run_game(build_engine(rules, seed, marker_players(rules, seed), seat, front,
                                       [checker]))
        checker.finish(result)
        printed = out.getvalue()
        visible = texts(result.events, seat)
        assert set(MARKER.findall(printed)) == visible and texts(result.events) - visible
        before_end = printed.split("Game over:")[0]
        assert set(ROLE_LABEL.findall(before_end)) <= known_roles(result.events[:-1], seat)
        questions = [line for line in printed.splitlines() if line.startswith("? ")]
        assert questions and all(re.match(r"\? [a-z_]+: ", q) for q in questions)
        # each round's public order, as model seats read it in their state line
        starts = [e for e in result.events if isinstance(e, PhaseStarted)]
        shown = re.findall(r"== (?:Night|Day) (\d+) == Order: ([^.]*)\.", printed)
        assert len(shown) == len(starts)
        assert all(names.split(", ") == [p for p in e.order if p in names.split(", ")]
                   for (_, names), e in zip(shown, starts))


def test_options_menu_and_matching():
    rules = make_rules()
    seed, seat = seat_with(rules, Role.VILLAGER)
    obs: Any = None
    day = Request(DecisionKind.DAY_ACTION, seat, (DayAction("wait"), DayAction("say"),
                                                  DayAction("dm", "Bob")), obs, 300, 0, rules)
    choices = menu(day)
    assert [(c.key, c.label) for c in choices] == [("1", "speak"), ("2", "wait"),
                                                   ("3", "dm Bob")]
    for said, label in (("1", "speak"), ("SAY", "speak"), (" dm  bob ", "dm Bob"),
                        ("wait", "wait"), ("3", "dm Bob")):
        assert match(said, choices).label == label  # type: ignore[union-attr]
    assert match("4", choices) is None and match("", choices) is None
    bid = Request(DecisionKind.BID, seat, ("0", "1", "2", "3", "4"), obs, 300, 1, rules)
    assert [c.key for c in menu(bid)] == ["0", "1", "2", "3", "4"]
    assert match("0", menu(bid)).option == "0"  # type: ignore[union-attr]
    assert draw_seat(SEAT_NAMES[:7], 5) == draw_seat(SEAT_NAMES[:7], 5)


def mafia_cmd(*args: str, **kw: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "mafia", "play", "--agents", "random",
                             *args], cwd=REPO, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


def test_line_mode_through_a_pipe(tmp_path: Path):
    """A script answers the questions as they come: a bad answer then an option's text, two
    bad answers (the fallback), numbers, a DM, then the end of input mid-game."""
    rules = make_rules()
    seed, seat = seat_with(rules, Role.VILLAGER, skip=20)
    out = tmp_path / "game.jsonl"
    proc = mafia_cmd("--human", seat, "--seed", str(seed), "--out", str(out),
                     stdin=subprocess.PIPE)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    script = ["bogus", "speak", "hello from the pipe", "x", "y", "3", "a dm from the pipe"]
    questions, printed = [], []
    assert proc.stdin is not None
    while True:
        line = lines.get(timeout=30)
        if line is None:
            break
        printed.append(line)
        if not line.startswith("? "):
            continue
        questions.append(line)
        if script:
            proc.stdin.write(script.pop(0) + "\n")
            proc.stdin.flush()
        elif line.startswith("? vote:") and not proc.stdin.closed:
            proc.stdin.close()  # end of input: this vote and all later decisions fall back
        elif not proc.stdin.closed:
            proc.stdin.write("1\n")
            proc.stdin.flush()
    assert proc.wait(timeout=30) == 0, proc.stderr.read()  # type: ignore[union-attr]
    assert questions[0].startswith("? day_action: 1 speak, 2 wait, 3 dm ")
    assert questions[1] == questions[0], "a bad answer is asked again"
    assert questions[2].startswith("? say: (to everyone, at most 300 characters")
    assert any("'bogus' is not one of the options" in p for p in printed)
    assert any(p.startswith("(input closed: the engine decides") for p in printed)
    assert printed[-1].startswith(("town wins", "mafia wins", "draw")) and str(out) in printed[-1]
    events = read_transcript(out).events
    assert events[0].players[SEAT_NAMES.index(seat)]["agent"]["kind"] == "human"  # type: ignore[attr-defined]
    said = {e.text: e for e in events if isinstance(e, Message) and e.sender == seat}
    assert said["hello from the pipe"].recipient is None
    assert said["a dm from the pipe"].recipient is not None
    errors = [e.error for e in events if isinstance(e, InvalidAction)]
    assert "'y' is not a legal option" in errors
    assert "standard input closed (human)" in errors
    assert events[-1].kind == "game_over"


def test_line_mode_at_end_of_input_never_hangs(tmp_path: Path):
    out = tmp_path / "g.jsonl"
    proc = mafia_cmd("--human", "--seed", "5", "--out", str(out), stdin=subprocess.DEVNULL)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    seat = draw_seat(SEAT_NAMES[:7], 5)
    assert f"you played {seat}" in stdout
    events = read_transcript(out).events
    invalid = [e for e in events if isinstance(e, InvalidAction)]
    assert invalid and {e.error for e in invalid} == {"standard input closed (human)"}
    # The report and the replay read a human seat like any other.
    (game,) = load_games(out).games
    assert game.seats[seat].kind == "human" and game.seats[seat].spec == "human"
    replay = subprocess.run([sys.executable, "-m", "mafia", "replay", str(out), "--delay", "0"],
                            cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert replay.returncode == 0 and f"{seat}: human" in replay.stdout


def test_line_mode_in_process_with_a_human_timeout(tmp_path: Path):
    r_fd, w_fd = os.pipe()  # an open pipe nobody writes to: only the time limit ends a wait
    stdin = os.fdopen(r_fd)
    out = io.StringIO()
    try:
        result = play_human(make_rules(), 9, marker_players(make_rules(), 9), "Dave",
                            tmp_path / "t.jsonl", timeout_s=0.01, others_timeout_s=None,
                            interactive=False, stdin=stdin, stdout=out)
    finally:
        os.close(w_fd)  # the end of input lets the reading thread go (then the file closes)
    assert result is not None
    errors = {e.error for e in result.events if isinstance(e, InvalidAction)}
    assert errors == {"no answer within 0.01 s (human)"}
    assert "no answer within 0.01 s (human)" in out.getvalue()


@pytest.mark.parametrize("args,named", [
    (["--human", "Zed"], ["--human", "Zed", "Alice"]),
    (["--human", "Alice", "--quiet"], ["--human", "--quiet"]),
    (["--human", "Bob", "--as", "Bob"], ["--human", "--as"]),
    (["--human-timeout", "5"], ["--human-timeout", "--human"]),
    (["--human", "Alice", "--human-timeout", "0"], ["--human-timeout"]),
])
def test_human_flag_mistakes_are_one_line(args: list[str], named: list[str]):
    proc = mafia_cmd(*args, stdin=subprocess.DEVNULL)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    for word in named:
        assert word in stderr
    assert "Traceback" not in stderr
