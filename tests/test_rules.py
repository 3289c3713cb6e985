"""The pure rules (mafia/rules.py): vote counting, ties, night resolution, win checks and the
legal targets each role is offered."""

from __future__ import annotations

import random

import pytest

from mafia import rules
from mafia.enums import Role, Winner

V, M, DOC, DET = Role.VILLAGER, Role.MAFIA, Role.DOCTOR, Role.DETECTIVE


@pytest.mark.parametrize(
    ("choices", "counts", "leaders"),
    [
        (["Bob", "Bob", "Carol"], {"Bob": 2, "Carol": 1}, ("Bob",)),
        (["Carol", "Bob", "Bob", "Carol", "Dave"], {"Carol": 2, "Bob": 2, "Dave": 1},
         ("Bob", "Carol")),
        ([None, "Bob", None], {"Bob": 1}, ("Bob",)),  # abstentions are not votes
        ([None, None], {}, ()),
        ([], {}, ()),
        (["Eve"], {"Eve": 1}, ("Eve",)),
        (["Dave", "Alice", "Carol"], {"Dave": 1, "Alice": 1, "Carol": 1},
         ("Alice", "Carol", "Dave")),
    ],
)
def test_tally_counts_plurality(choices, counts, leaders):
    """Votes are counted per target; the leaders are every target with the top count (sorted,
    so ties never depend on vote order); abstentions (None) count for nobody."""
    t = rules.tally(choices)
    assert t.counts == counts
    assert t.leaders == leaders
    assert t.tie == (len(leaders) > 1)


def test_tally_keeps_first_vote_order():
    """The tally shown to players lists targets in the order they first got a vote."""
    assert list(rules.tally(["Dave", "Bob", "Dave"]).counts) == ["Dave", "Bob"]


@pytest.mark.parametrize(
    ("choices", "policy", "expected"),
    [
        (["Bob", "Bob", "Carol"], "random", "Bob"),
        (["Bob", "Bob", "Carol"], "none", "Bob"),  # no tie: the policy does not matter
        (["Bob", "Carol"], "none", None),
        ([], "random", None),
        ([None], "none", None),
    ],
)
def test_break_tie(choices, policy, expected):
    """A clear plurality always wins; a tie under policy 'none' eliminates nobody."""
    assert rules.break_tie(rules.tally(choices), policy, random.Random(0)) == expected


@pytest.mark.parametrize("seed", range(10))
def test_break_tie_random_is_a_seeded_draw_among_leaders(seed):
    """A random tie-break picks one of the leaders (never a trailing target) and the same
    seed always picks the same one."""
    t = rules.tally(["Bob", "Carol", "Dave", "Bob", "Carol", "Dave", "Eve"])
    first = rules.break_tie(t, "random", random.Random(seed))
    again = rules.break_tie(t, "random", random.Random(seed))
    assert first in {"Bob", "Carol", "Dave"}
    assert first == again


def test_break_tie_random_reaches_every_leader():
    """Over many seeds each leader can win the draw (the draw is not stuck on one name)."""
    t = rules.tally(["Bob", "Carol", "Dave"])
    picked = {rules.break_tie(t, "random", random.Random(s)) for s in range(50)}
    assert picked == {"Bob", "Carol", "Dave"}


@pytest.mark.parametrize(
    ("target", "protected", "dies"),
    [
        ("Bob", set(), "Bob"),
        ("Bob", {"Bob"}, None),  # the doctor saved the target
        ("Bob", {"Carol"}, "Bob"),  # protecting someone else does not help
        ("Bob", {"Carol", "Bob"}, None),  # several doctors: any one of them saves
        ("Bob", {"Carol", "Dave"}, "Bob"),
        (None, {"Bob"}, None),  # no kill at all
        (None, set(), None),
    ],
)
def test_resolve_night(target, protected, dies):
    """Who dies at dawn: the mafia's target, unless any doctor protected them."""
    assert rules.resolve_night(target, protected) == dies


ROLES = {"Alice": M, "Bob": M, "Carol": V, "Dave": DOC, "Eve": DET}


@pytest.mark.parametrize(
    ("alive", "expected"),
    [
        (["Carol", "Dave", "Eve"], Winner.TOWN),  # no mafia alive
        (["Alice", "Bob", "Carol", "Dave"], Winner.MAFIA),  # 2 mafia vs 2 others
        (["Alice", "Carol"], Winner.MAFIA),  # 1 vs 1
        (["Alice", "Bob", "Carol"], Winner.MAFIA),  # more mafia than others
        (["Alice", "Carol", "Dave"], None),  # 1 vs 2: the game goes on
        (["Alice", "Bob", "Carol", "Dave", "Eve"], None),  # 2 vs 3
        (["Carol"], Winner.TOWN),
    ],
)
def test_winner(alive, expected):
    """Town wins when no mafia lives; mafia win once they are at least as many as everyone
    else; otherwise nobody has won yet."""
    assert rules.winner(ROLES, alive) is expected


def test_kill_options_are_living_non_mafia_in_seat_order():
    """The mafia may kill any living non-mafia player, never a fellow mafioso."""
    alive = ["Alice", "Bob", "Carol", "Eve"]
    assert rules.kill_options(ROLES, alive) == ("Carol", "Eve")


def test_others_excludes_the_player():
    """Votes and investigations target another living player, never oneself."""
    assert rules.others("Bob", ["Alice", "Bob", "Carol"]) == ("Alice", "Carol")


ALIVE = ["Alice", "Bob", "Carol", "Dave"]


@pytest.mark.parametrize(
    ("alive", "last", "self_save", "repeat_save", "expected"),
    [
        (ALIVE, None, True, True, ("Alice", "Bob", "Carol", "Dave")),
        (ALIVE, None, False, True, ("Alice", "Bob", "Carol")),  # no self save
        (ALIVE, "Bob", True, False, ("Alice", "Carol", "Dave")),  # no repeat of Bob
        (ALIVE, "Bob", True, True, ("Alice", "Bob", "Carol", "Dave")),  # repeats allowed
        (ALIVE, "Bob", False, False, ("Alice", "Carol")),  # both rules at once
        (ALIVE, "Dave", False, False, ("Alice", "Bob", "Carol")),  # last was self
        # Never empty: two alive, the other one protected last night, no self save.
        (["Bob", "Dave"], "Bob", False, False, ("Bob",)),
        (["Dave"], None, False, True, ("Dave",)),  # alone: self is the only choice
        (["Dave"], "Dave", True, False, ("Dave",)),
    ],
)
def test_protect_options(alive, last, self_save, repeat_save, expected):
    """The doctor (Dave) is offered every living player except as doctor_self_save and
    doctor_repeat_save forbid, and is never left without a choice."""
    options = rules.protect_options("Dave", alive, last, self_save, repeat_save)
    assert options == expected
    assert options  # never empty


@pytest.mark.parametrize(
    ("role", "learns", "result"),
    [
        (M, "team", "mafia"),
        (DOC, "team", "town"),
        (DET, "team", "town"),
        (V, "team", "town"),
        (M, "role", "mafia"),
        (DOC, "role", "doctor"),
        (DET, "role", "detective"),
        (V, "role", "villager"),
    ],
)
def test_investigation_result(role, learns, result):
    """detective_learns='team' gives only town/mafia; 'role' gives the exact role."""
    assert rules.investigation_result(role, learns) == result


@pytest.mark.parametrize(
    ("role", "reveal", "shown"),
    [
        (M, "role", {"role": "mafia", "team": "mafia"}),
        (DOC, "role", {"role": "doctor", "team": "town"}),
        (DOC, "team", {"team": "town"}),
        (M, "team", {"team": "mafia"}),
        (DET, "none", {}),
        (M, "none", {}),
    ],
)
def test_revealed_identity(role, reveal, shown):
    """A death announcement carries exactly what reveal_on_death allows: role and team,
    only the team, or nothing."""
    assert rules.revealed_identity(role, reveal) == shown
