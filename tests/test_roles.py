"""Roles as data (mafia/roles/): the three optional roles' rules on hand-built games, and every
kind of seat playing them.

- godfather: mafia, shown as town (or as a villager) by a check;
- vigilante: town, one night shot per game (a doctor's save stops it; a failed answer never
  fires it);
- jester: its own side; voted out, it wins alone and the game ends; killed at night, it
  loses and the game goes on.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, LegalBackend, run_checked

from mafia import rules as R
from mafia.config import default_role_counts, make_rules, parse_roles_arg
from mafia.decisions import ABSTAIN, WAIT, Answer, Request
from mafia.enums import DecisionKind, Role, Team, Winner
from mafia.errors import MafiaError
from mafia.events import (
    GameOver, InvalidAction, InvestigationResult, NightAction, PlayerDied, RoleAssigned,
)
from mafia.roles.registry import SPECS

from mafia.agents.llm_player import LLMPlayer
from mafia.agents.plain_player import PlainPlayer
from mafia.agents.seating import build_players

ALL_OPTIONAL = {"godfather": 1, "vigilante": 1, "jester": 1}


# ---- the specs and the rules functions ------------------------------------------------------

def test_every_role_module_is_found_in_deal_order():
    assert [s.name for s in SPECS] == ["villager", "mafia", "doctor", "detective", "godfather",
                                       "vigilante", "jester"]
    assert [r.value for r in Role] == [s.name for s in SPECS]
    assert [t.value for t in Team] == ["town", "mafia", "jester"]
    assert [w.value for w in Winner] == ["town", "mafia", "jester", "draw"]


def test_optional_roles_are_off_by_default_and_the_default_deal_is_unchanged():
    """A game without the new roles deals and records exactly as before they existed."""
    for players in range(4, 17):
        counts = default_role_counts(players)
        assert set(counts) == {Role.VILLAGER, Role.MAFIA, Role.DOCTOR, Role.DETECTIVE}
    rules = make_rules()
    assert rules.model_dump(mode="json")["roles"] == {
        "villager": 3, "mafia": 2, "doctor": 1, "detective": 1}
    assert rules.role_list() == [Role.VILLAGER] * 3 + [Role.MAFIA] * 2 + [Role.DOCTOR,
                                                                          Role.DETECTIVE]


def test_a_godfather_takes_a_default_mafia_seat():
    r = make_rules(roles={"godfather": 1})
    assert (r.count(Role.MAFIA), r.count(Role.GODFATHER), r.count(Role.VILLAGER)) == (1, 1, 3)
    r = make_rules(players=12, roles={"godfather": 1, "mafia": 3})  # both given: as given
    assert (r.count(Role.MAFIA), r.count(Role.GODFATHER)) == (3, 1)
    with pytest.raises(MafiaError, match="mafia must be fewer than town"):
        make_rules(players=6, roles={"godfather": 1, "mafia": 2})


def test_roles_flag_names_every_role_when_one_is_unknown():
    assert parse_roles_arg("jester=1,vigilante=2") == {"jester": 1, "vigilante": 2}
    with pytest.raises(MafiaError, match="known: villager, mafia, doctor, detective, "
                                         "godfather, vigilante, jester"):
        parse_roles_arg("joker=1")


@pytest.mark.parametrize(("learns", "shown"), [("team", "town"), ("role", "villager")])
def test_a_check_shows_the_godfather_as_town(learns: str, shown: str):
    assert R.investigation_result(Role.GODFATHER, learns) == shown
    assert R.investigation_result(Role.MAFIA, learns) == "mafia"
    assert R.investigation_result(Role.JESTER, learns) == "jester"
    assert R.revealed_identity(Role.GODFATHER, "role") == {"role": "godfather", "team": "mafia"}


def test_the_win_check_counts_sides():
    roles = {"A": Role.GODFATHER, "B": Role.JESTER, "C": Role.VILLAGER, "D": Role.MAFIA,
             "E": Role.VIGILANTE}
    assert R.winner(roles, ["A", "B", "C", "D", "E"]) is None  # 2 mafia against 3 others
    assert R.winner(roles, ["A", "B", "C", "D"]) is Winner.MAFIA  # 2 against 2
    assert R.winner(roles, ["A", "B", "C"]) is None
    assert R.winner(roles, ["A", "B"]) is Winner.MAFIA  # the jester counts among the rest
    assert R.winner(roles, ["B", "C"]) is Winner.TOWN  # no mafia-side player left
    assert R.vote_winner(Role.JESTER) is Winner.JESTER
    assert R.vote_winner(Role.GODFATHER) is None
    assert R.kill_options(roles, ["A", "B", "C", "D"]) == ("B", "C")
    assert R.shoot_options("C", ["A", "B", "C"]) == ("A", "B", ABSTAIN)
    assert R.night_deaths(["C", None, "A", "C"], {"B"}, ["A", "B", "C"]) == ["A", "C"]


# ---- hand-built games -----------------------------------------------------------------------

Policy = Callable[[Request, dict[str, Role]], Any]


class Bot:
    """Plays `policy(request, dealt roles)`: these tests know every role in advance."""

    def __init__(self, policy: Policy, roles: dict[str, Role]) -> None:
        self.policy, self.roles = policy, roles

    def describe(self) -> dict[str, Any]:
        return {"kind": "scripted", "spec": "bot"}

    async def act(self, request: Request) -> Any:
        return self.policy(request, self.roles)


def first_of(side: Team) -> Callable[[Request, dict[str, Role]], str]:
    """The first option (seat order) on `side`."""
    def pick(request: Request, roles: dict[str, Role]) -> str:
        return next(str(o) for o in request.options if o != ABSTAIN and roles[str(o)].team is side)
    return pick


def calm(request: Request, roles: dict[str, Role]) -> Any:
    """Silent by day; votes and night choices go to the first legal option (never abstain)."""
    if request.kind is DecisionKind.DAY_ACTION:
        return Answer(WAIT)
    legal = [o for o in request.options if o != ABSTAIN]
    return Answer(legal[0] if legal else None)


async def play(roles_: dict[str, int], seed: int, policy: Policy, **rules: Any):
    r = make_rules(players=7, roles=roles_, **rules)
    dealt = R.deal_roles(r, seed)
    players = [Bot(policy, dealt) for _ in range(r.players)]
    result, _ = await run_checked(r, seed, players, allow_invalid=True)
    return result, dealt


def who(dealt: dict[str, Role], role: Role) -> list[str]:
    return [p for p, r in dealt.items() if r is role]


async def test_the_vigilante_shot_kills_once_and_both_deaths_come_at_dawn():
    """Night 1: the mafia kill a villager and the vigilante shoots a mafia; both are announced
    at dawn (seat order), and the vigilante is never asked to shoot again."""
    shots: list[int] = []

    def policy(req: Request, roles: dict[str, Role]) -> Any:
        if req.kind is DecisionKind.SHOOT:
            shots.append(req.observation.day)
            return Answer(first_of(Team.MAFIA)(req, roles))
        if req.kind is DecisionKind.KILL:
            return Answer(next(o for o in req.options if roles[str(o)] is Role.VILLAGER))
        if req.kind is DecisionKind.PROTECT:  # the doctor guards itself: saves nobody else
            return Answer(req.player)
        return calm(req, roles)

    result, dealt = await play({"vigilante": 1, "doctor": 1}, 4, policy,
                               doctor_self_save=True)
    first_dawn = [e for e in result.events if isinstance(e, PlayerDied) and e.day == 1
                  and e.cause == "night"]
    killed = {e.player for e in first_dawn}
    assert len(killed) == 2 and first_dawn[0].cause == first_dawn[1].cause == "night"
    assert {dealt[p] for p in killed} == {Role.VILLAGER, Role.MAFIA}
    assert [e.player for e in first_dawn] == [p for p in result.state.seats if p in killed]
    assert shots == [1], "one shot per game"
    fired = [e for e in result.events if isinstance(e, NightAction) and e.action == "shoot"]
    assert len(fired) == 1 and fired[0].visible_to == (fired[0].actor,)


async def test_a_doctor_save_stops_the_shot_and_holding_fire_keeps_it():
    asked: list[int] = []

    def policy(req: Request, roles: dict[str, Role]) -> Any:
        if req.kind is DecisionKind.SHOOT:
            asked.append(req.observation.day)
            if req.observation.day == 1:
                return Answer(ABSTAIN)  # hold fire on the first night
            return Answer(first_of(Team.MAFIA)(req, roles))
        if req.kind is DecisionKind.PROTECT:  # the doctor guards the vigilante's target
            return Answer(first_of(Team.MAFIA)(req, roles))
        if req.kind is DecisionKind.KILL:
            return Answer(next(o for o in req.options if roles[str(o)] is Role.VILLAGER))
        if req.kind is DecisionKind.VOTE:  # nobody useful is voted out
            return Answer(next(o for o in req.options if roles[str(o)] is Role.VILLAGER)
                          if any(roles[str(o)] is Role.VILLAGER for o in req.options)
                          else req.options[0])
        return calm(req, roles)

    result, dealt = await play({"vigilante": 1}, 2, policy, max_days=3)
    assert asked[:2] == [1, 2], "holding fire keeps the shot for a later night"
    shot = [e for e in result.events if isinstance(e, NightAction) and e.action == "shoot"]
    assert len(shot) == 1 and shot[0].day == 2
    mafia_deaths = [e for e in result.events if isinstance(e, PlayerDied)
                    and dealt[e.player] is Role.MAFIA and e.cause == "night"]
    assert mafia_deaths == [], "the doctor's save stopped the shot"


async def test_a_vigilante_who_fails_to_answer_holds_fire():
    def policy(req: Request, roles: dict[str, Role]) -> Any:
        if req.kind is DecisionKind.SHOOT:
            raise RuntimeError("no idea")
        return calm(req, roles)

    result, _ = await play({"vigilante": 1}, 5, policy, max_days=2)
    failed = [e for e in result.events if isinstance(e, InvalidAction) and e.decision == "shoot"]
    assert failed and all(e.fallback == ABSTAIN for e in failed)
    assert not any(isinstance(e, NightAction) and e.action == "shoot" for e in result.events)


async def test_a_jester_voted_out_wins_alone_and_the_game_ends():
    def policy(req: Request, roles: dict[str, Role]) -> Any:
        if req.kind is DecisionKind.VOTE:
            jester = [o for o in req.options if roles[str(o)] is Role.JESTER]
            return Answer(jester[0] if jester else req.options[0])
        return calm(req, roles)

    result, dealt = await play({"jester": 1}, 7, policy)
    over = result.events[-1]
    assert isinstance(over, GameOver) and over.winner is Winner.JESTER
    died = result.events[-2]
    assert isinstance(died, PlayerDied) and died.cause == "vote"
    assert dealt[died.player] is Role.JESTER and over.reason == "the jester was voted out"


async def test_a_jester_killed_at_night_loses_and_the_game_goes_on():
    def policy(req: Request, roles: dict[str, Role]) -> Any:
        if req.kind is DecisionKind.KILL:
            return Answer(next(o for o in req.options if roles[str(o)] is Role.JESTER))
        if req.kind is DecisionKind.PROTECT:
            return Answer(req.player)
        return calm(req, roles)

    result, dealt = await play({"jester": 1}, 3, policy)
    jester = who(dealt, Role.JESTER)[0]
    death = next(e for e in result.events if isinstance(e, PlayerDied))
    assert (death.player, death.cause, death.day) == (jester, "night", 1)
    assert result.winner is not Winner.JESTER and result.state.day > 1


async def test_a_godfather_knows_the_mafia_and_kills_with_them():
    result, dealt = await play({"godfather": 1}, 11, calm)
    godfather, mafia = who(dealt, Role.GODFATHER)[0], who(dealt, Role.MAFIA)[0]
    dealt_to = {e.player: e for e in result.events if isinstance(e, RoleAssigned)}
    assert dealt_to[godfather].teammates == (mafia,) and dealt_to[mafia].teammates == (godfather,)
    assert dealt_to[godfather].team is Team.MAFIA
    kills = {e.actor for e in result.events if isinstance(e, NightAction) and e.action == "kill"
             and e.day == 1}
    assert kills == {godfather, mafia}
    checks = [e for e in result.events if isinstance(e, InvestigationResult)
              and e.target == godfather]
    assert all(e.result == "town" for e in checks)


# ---- every kind of seat plays every role ----------------------------------------------------

def _model_seats(kind: str, seed: int, n: int) -> list[Any]:
    if kind == "assisted":
        return [LLMPlayer(LegalBackend(), seed=seed, seat=s, style="completion")
                for s in range(n)]
    return [PlainPlayer(LegalBackend(), seed=seed, seat=s) for s in range(n)]


@pytest.fixture(scope="module")
def simple_bot(tmp_path_factory: pytest.TempPathFactory) -> str:
    import re
    text = (REPO / "docs" / "programs.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(# simple_bot\.py.*?)```", text, re.S)
    assert code
    path = tmp_path_factory.mktemp("bot") / "simple_bot.py"
    path.write_text(code.group(1))
    return f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


@pytest.mark.parametrize("seat", ["random", "heuristic", "assisted", "plain", "cmd"])
async def test_every_kind_of_seat_plays_every_role(seat: str, simple_bot: str):
    """Games with all three optional roles (and the classic four), every seat of one kind:
    every request and event checked, no invalid action, each role dealt to that kind."""
    rules = make_rules(players=9, roles=ALL_OPTIONAL, max_days=4)
    played: set[Role] = set()
    for seed in range(4 if seat in ("random", "heuristic") else 2):
        if seat in ("assisted", "plain"):
            players = _model_seats(seat, seed, rules.players)
        else:
            spec = simple_bot if seat == "cmd" else seat
            players = build_players([spec], rules.players, seed)
        result, _ = await run_checked(rules, seed, players)
        assert not [e for e in result.events if isinstance(e, InvalidAction)]
        played |= set(result.state.roles.values())
    assert played == set(Role)


async def test_a_py_program_is_told_its_role_and_its_shot():
    """What a program reads for the new roles: its role name and the shoot decision, whose
    options end with "abstain" (hold fire)."""
    seen: dict[str, set[str]] = {}

    class Probe:
        def describe(self) -> dict[str, Any]:
            return {"kind": "program", "spec": "probe"}

        async def act(self, request: Request) -> Answer:
            seen.setdefault(request.observation.role.value, set()).add(request.kind.value)
            if request.kind is DecisionKind.SHOOT:
                assert request.options[-1] == ABSTAIN
            return calm(request, {})

    rules = make_rules(players=9, roles=ALL_OPTIONAL, max_days=2)
    for seed in range(3):
        await run_checked(rules, seed, [Probe() for _ in range(rules.players)])
    assert "shoot" in seen["vigilante"] and "kill" in seen["godfather"]
    assert "mafia_chat" in seen["godfather"] and seen["jester"] <= {"day_action", "vote",
                                                                   "last_words"}


def test_play_with_every_optional_role_from_the_cli(tmp_path: Path):
    import subprocess
    out = tmp_path / "game.jsonl"
    run = subprocess.run([sys.executable, "-m", "mafia", "play", "--agents", "heuristic",
                          "--players", "9", "--roles", "godfather=1,vigilante=1,jester=1",
                          "--seed", "3", "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "godfather" in run.stdout and "jester" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "mafia", "play", "--roles", "joker=1"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1
    assert "unknown role 'joker'" in bad.stderr


def test_team_seating_gives_the_godfather_to_the_mafia_spec():
    from mafia.agents.specs import Teams
    rules = make_rules(roles=ALL_OPTIONAL)
    for seed in range(20):
        dealt = R.deal_roles(rules, seed)
        specs = Teams("T", "M").seat_specs(rules, seed)
        for role, spec in zip(dealt.values(), specs):
            assert spec == ("M" if role in (Role.MAFIA, Role.GODFATHER) else "T"), (seed, role)


def test_report_and_compare_count_the_jester_as_its_own_side(tmp_path: Path):
    import json
    import subprocess

    def mafia(*args: str) -> str:
        run = subprocess.run([sys.executable, "-m", "mafia", *args], capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        return run.stdout

    folder = tmp_path / "jester"
    mafia("sweep", "--agents", "heuristic", "--games", "60", "--seed", "1", "--roles",
          "jester=1", "--out", str(folder), "--workers", "1")
    report = json.loads(mafia("report", str(folder), "--json"))
    assert set(report["wins"]) == {"town", "mafia", "jester", "draw"}
    assert sum(report["wins"].values()) == 60 and report["wins"]["jester"] > 0
    assert report["teams"]["jester"]["k"] == report["wins"]["jester"]
    compared = json.loads(mafia("compare", str(folder), "--json"))
    jester = compared["models"]["heuristic"]["wins"]["jester"]
    assert jester["k"] == report["wins"]["jester"] and jester["n"] == 60
    assert "jester" in mafia("compare", str(folder))


MASON = '''
from mafia.roles.spec import TOWN, RoleSpec

# A town role with no power of its own: the smallest role there is.
SPEC = RoleSpec(name="mason", side=TOWN, deal_order=7, plural="masons")
'''

PLUG_IN = '''
import sys
import mafia.roles
mafia.roles.__path__.append(sys.argv[1])  # before anything builds Role from the modules
from mafia.cli import main
sys.exit(main(sys.argv[2:]))
'''


def test_a_new_role_is_one_module(tmp_path: Path):
    """A role module in the package's path is all a new role needs: `--roles` knows it, the
    engine deals it, every seat kind plays it, the checker passes, the report counts it."""
    import json
    import subprocess

    (tmp_path / "mason.py").write_text(MASON)

    def mafia(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", PLUG_IN, str(tmp_path), *args],
                              capture_output=True, text=True, timeout=300)

    check = mafia("check", "heuristic", "--roles", "mason=1", "--games", "10", "--json")
    assert check.returncode == 0, check.stderr
    verdict = json.loads(check.stdout)
    assert verdict["violations"] == [] and verdict["games"] == 10, verdict
    folder = tmp_path / "sweep"
    assert mafia("sweep", "--agents", "random", "--games", "20", "--roles", "mason=1",
                 "--out", str(folder), "--workers", "1").returncode == 0
    report = json.loads(mafia("report", str(folder), "--json").stdout)
    assert report["rules"]["roles"]["mason"] == 1
    assert report["models"]["random"]["roles"]["mason"]["seat_games"] == 20
