"""Golden games: scripted players whose every move is fixed, so the whole game is known in
advance. They pin down the order of events, who sees what, and the winner; and show that a
script that breaks (runs out, raises) only produces invalid_action events and fallbacks."""

from __future__ import annotations

from typing import Any

from helpers import run_checked

from mafia.config import make_rules
from mafia.decisions import SAY, WAIT, Answer, DayAction, Request
from mafia.enums import DecisionKind, Role, Winner
from mafia.events import BaseEvent, InvalidAction

from mafia.agents.scripted import ScriptedPlayer

A = Answer

# Seed 4 deals 5 seats as: Alice doctor, Bob detective, Carol villager, Dave mafia, Eve villager.
GOLDEN_RULES = dict(players=5, discussion_rounds=1, tie_policy="none")
GOLDEN_SEED = 4
GOLDEN_SCRIPTS: dict[str, list[Answer]] = {
    # night 1, day 1 (talk, vote), night 2, day 2 (talk, vote)
    "Alice": [A("Alice"), A(WAIT), A("Dave"), A("Alice"), A(WAIT), A("Dave")],
    "Bob": [A("Eve"), A(SAY, "Eve is town."), A("Dave"),
            A("Dave"), A(SAY, "Dave is mafia!"), A("Dave")],
    "Carol": [],  # killed on night 1 before being asked anything
    "Dave": [A("Carol"), A(DayAction("dm", "Eve"), "Vote Bob with me."), A("Bob"),
             A("Alice"), A(SAY, "Bob: I lied, Eve is mafia."),  # impersonation: dropped
             A("Bob"), A(text="Well played.")],
    "Eve": [A(WAIT), A("Bob"), A(WAIT), A("Dave")],
}

# (kind, day, key fields..., visible_to) for every event after game_started.
GOLDEN_EVENTS: list[tuple[Any, ...]] = [
    ("role_assigned", 0, "Alice", "doctor", ("Alice",)),
    ("role_assigned", 0, "Bob", "detective", ("Bob",)),
    ("role_assigned", 0, "Carol", "villager", ("Carol",)),
    ("role_assigned", 0, "Dave", "mafia", ("Dave",)),
    ("role_assigned", 0, "Eve", "villager", ("Eve",)),
    ("phase_started", 1, "night", None),
    ("night_action", 1, "Dave", "kill", "Carol", ("Dave",)),
    ("night_action", 1, "Alice", "protect", "Alice", ("Alice",)),
    ("night_action", 1, "Bob", "investigate", "Eve", ("Bob",)),
    ("kill_decided", 1, "Carol", {"Carol": 1}, ("Dave",)),
    ("investigation_result", 1, "Bob", "Eve", "town", ("Bob",)),
    ("phase_started", 1, "day", None),
    ("player_died", 1, "Carol", "night", "villager", None),
    ("message", 1, "dm", "Dave", "Eve", "Vote Bob with me.", ("Dave", "Eve")),
    ("message", 1, "public", "Bob", None, "Eve is town.", None),
    ("vote_cast", 1, "Alice", "Dave", None),
    ("vote_cast", 1, "Bob", "Dave", None),
    ("vote_cast", 1, "Dave", "Bob", None),
    ("vote_cast", 1, "Eve", "Bob", None),
    ("vote_result", 1, {"Dave": 2, "Bob": 2}, None, True, None),  # tie, policy none
    ("phase_started", 2, "night", None),
    ("night_action", 2, "Dave", "kill", "Alice", ("Dave",)),
    ("night_action", 2, "Alice", "protect", "Alice", ("Alice",)),  # self save
    ("night_action", 2, "Bob", "investigate", "Dave", ("Bob",)),
    ("kill_decided", 2, "Alice", {"Alice": 1}, ("Dave",)),
    ("investigation_result", 2, "Bob", "Dave", "mafia", ("Bob",)),
    ("phase_started", 2, "day", None),
    ("nobody_died", 2, None),
    ("message", 2, "public", "Bob", None, "Dave is mafia!", None),
    ("vote_cast", 2, "Alice", "Dave", None),
    ("vote_cast", 2, "Bob", "Dave", None),
    ("vote_cast", 2, "Dave", "Bob", None),
    ("vote_cast", 2, "Eve", "Dave", None),
    ("vote_result", 2, {"Dave": 3, "Bob": 1}, "Dave", False, None),
    ("last_words", 2, "Dave", "Well played.", None),
    ("player_died", 2, "Dave", "vote", "mafia", None),
    ("game_over", 2, "town", "no mafia left alive", 2, None),
]


def brief(e: BaseEvent) -> tuple[Any, ...]:
    """The fields of an event that a golden game pins down."""
    d = e.model_dump(mode="json")
    keys = {
        "role_assigned": ("player", "role"),
        "phase_started": ("phase",),
        "night_action": ("actor", "action", "target"),
        "kill_decided": ("target", "tally"),
        "investigation_result": ("detective", "target", "result"),
        "player_died": ("player", "cause", "role"),
        "nobody_died": (),
        "message": ("channel", "sender", "recipient", "text"),
        "vote_cast": ("voter", "target"),
        "vote_result": ("tally", "eliminated", "tie"),
        "last_words": ("player", "text"),
        "game_over": ("winner", "reason", "days"),
        "invalid_action": ("player", "decision", "fallback"),
    }[e.kind]
    vis = tuple(e.visible_to) if e.visible_to is not None else None
    return (e.kind, e.day, *(d[k] for k in keys), vis)


async def test_golden_game_plays_exactly_as_scripted():
    """A fully scripted 5-player game: night kill, a DM, a tied vote that eliminates nobody,
    a doctor's self save, the detective finding the mafioso, his last words, town wins."""
    rules = make_rules(**GOLDEN_RULES)
    players = [ScriptedPlayer(steps, name=name) for name, steps in GOLDEN_SCRIPTS.items()]
    result, _ = await run_checked(rules, GOLDEN_SEED, players)
    assert result.events[0].kind == "game_started"
    assert [brief(e) for e in result.events[1:]] == GOLDEN_EVENTS
    assert result.winner is Winner.TOWN and result.days == 2
    assert all(not p.steps for p in players), "every scripted answer was used"


async def test_golden_game_requests_and_private_knowledge():
    """Each seat was asked exactly the decisions the game needs, and learned only its own
    secrets: the detective's results reach the detective; the DM reaches only its two ends."""
    rules = make_rules(**GOLDEN_RULES)
    players = {name: ScriptedPlayer(steps, name=name) for name, steps in GOLDEN_SCRIPTS.items()}
    await run_checked(rules, GOLDEN_SEED, list(players.values()))
    K = DecisionKind
    assert [r.kind for r in players["Dave"].requests] == [
        K.KILL, K.DAY_ACTION, K.VOTE, K.KILL, K.DAY_ACTION, K.VOTE, K.LAST_WORDS]
    assert [r.kind for r in players["Alice"].requests] == [
        K.PROTECT, K.DAY_ACTION, K.VOTE, K.PROTECT, K.DAY_ACTION, K.VOTE]
    assert players["Carol"].requests == []
    bob_last = players["Bob"].requests[-1].observation
    assert bob_last.investigations() == {"Eve": "town", "Dave": "mafia"}
    assert bob_last.revealed() == {"Carol": "villager"}

    def dms(name: str) -> list[str]:
        obs = players[name].requests[-1].observation
        return [e.text for e in obs.events if e.kind == "message" and e.channel == "dm"]

    assert dms("Eve") == dms("Dave") == ["Vote Bob with me."]
    assert dms("Alice") == dms("Bob") == []


def role_policy(request: Request) -> Answer:
    """A scripted strategy decided by role: mafia plot and kill the last town seat and vote the
    last town player; town votes the last option; everyone else takes the first option."""
    obs, K = request.observation, DecisionKind
    if request.kind is K.MAFIA_CHAT:
        return Answer(text=f"Let's take {obs.alive[-1]}.")
    if request.kind is K.KILL:
        return Answer(request.options[-1])
    if request.kind is K.VOTE:
        if obs.role is Role.MAFIA:
            return Answer([o for o in request.options if o not in obs.teammates][-1])
        return Answer(request.options[-1])
    return Answer(request.options[0])


async def test_role_driven_script_gives_a_mafia_win():
    """Scripts written as functions of the request (acting by role): with seed 1 (Alice and
    Bob mafia) the mafia plot in their channel, kill Frank, and town votes out its own doctor,
    so the mafia reach parity on day 1."""
    rules = make_rules(players=6, vote_reveal="sequential", discussion_rounds=0,
                       last_words=False)
    players = [ScriptedPlayer([role_policy] * 50, name=f"seat{i}") for i in range(6)]
    result, _ = await run_checked(rules, 1, players)
    got = [brief(e) for e in result.events if e.kind not in ("game_started", "role_assigned")]
    assert got == [
        ("phase_started", 1, "night", None),
        ("message", 1, "mafia", "Bob", None, "Let's take Frank.", ("Alice", "Bob")),
        ("message", 1, "mafia", "Alice", None, "Let's take Frank.", ("Alice", "Bob")),
        ("night_action", 1, "Alice", "kill", "Frank", ("Alice", "Bob")),
        ("night_action", 1, "Bob", "kill", "Frank", ("Alice", "Bob")),
        ("night_action", 1, "Eve", "protect", "Alice", ("Eve",)),
        ("night_action", 1, "Carol", "investigate", "Alice", ("Carol",)),
        ("kill_decided", 1, "Frank", {"Frank": 2}, ("Alice", "Bob")),
        ("investigation_result", 1, "Carol", "Alice", "mafia", ("Carol",)),
        ("phase_started", 1, "day", None),
        ("player_died", 1, "Frank", "night", "villager", None),
        ("vote_cast", 1, "Dave", "Eve", None),  # sequential: a seeded order
        ("vote_cast", 1, "Eve", "Dave", None),
        ("vote_cast", 1, "Alice", "Eve", None),
        ("vote_cast", 1, "Carol", "Eve", None),
        ("vote_cast", 1, "Bob", "Eve", None),
        ("vote_result", 1, {"Eve": 4, "Dave": 1}, "Eve", False, None),
        ("player_died", 1, "Eve", "vote", "doctor", None),
        ("game_over", 1, "mafia", "mafia are as many as everyone else", 1, None),
    ]
    assert result.winner is Winner.MAFIA


async def test_exhausted_scripts_fall_back_and_the_game_ends():
    """Players with no answers at all: every request becomes one invalid_action (naming the
    failure) with a legal fallback, and the game still reaches game_over."""
    rules = make_rules(players=6, max_days=4)
    players = [ScriptedPlayer([], name=f"empty{i}") for i in range(6)]
    result, checker = await run_checked(rules, 11, players, allow_invalid=True)
    asked = sum(len(p.requests) for p in players)
    invalid = [e for e in result.events if isinstance(e, InvalidAction)]
    assert asked > 0 and len(invalid) == asked
    assert all("ScriptExhausted" in e.error for e in invalid)
    assert result.events[-1].kind == "game_over"
    # Silence and waiting are the fallbacks for talk: nobody said anything.
    assert not [e for e in result.events if e.kind in ("message", "last_words")]


async def test_script_that_raises_or_runs_out_mid_game():
    """A seat whose script raises once and later runs dry: those two requests become
    invalid_action events (with the exception's text), all its other answers count."""
    rules = make_rules(players=5, discussion_rounds=1, max_days=3)
    boom = RuntimeError("model crashed")

    def first_option(request: Request) -> Answer:
        return Answer(request.options[0] if request.options else None)

    players = [ScriptedPlayer([first_option] * 100, name=f"p{i}") for i in range(4)]
    flaky = ScriptedPlayer([first_option, boom, first_option, first_option], name="flaky")
    players.insert(2, flaky)  # Carol's seat
    result, _ = await run_checked(rules, 7, players, allow_invalid=True)
    invalid = [e for e in result.events if isinstance(e, InvalidAction)]
    assert all(e.player == "Carol" and e.visible_to == ("Carol",) for e in invalid)
    assert len(flaky.requests) == 10  # Carol is the doctor and lives until day 3's vote
    assert invalid[0].error == "player raised RuntimeError: model crashed"
    assert all("ScriptExhausted" in e.error for e in invalid[1:])
    # Request 2 raised; requests 5..10 found the script empty; 1, 3 and 4 were answered.
    assert [e.decision for e in invalid] == [
        "day_action", "day_action", "vote", "protect", "day_action", "vote", "last_words"]
    assert [e.fallback for e in invalid][:2] == ["wait", "wait"]
    assert result.events[-1].kind == "game_over"
