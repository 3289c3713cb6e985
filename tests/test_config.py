"""Rules configuration (mafia/config.py): defaults, validation errors a user sees, TOML files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mafia.config import load_rules_file, make_rules, parse_roles_arg
from mafia.enums import Phase, Role
from mafia.errors import MafiaError


def test_defaults_for_seven_players():
    """`mafia play` with no options: 7 players, 2 mafia, 1 doctor, 1 detective, 3 villagers,
    night first, 10 days."""
    r = make_rules()
    assert r.players == 7
    assert r.roles == {Role.VILLAGER: 3, Role.MAFIA: 2, Role.DOCTOR: 1, Role.DETECTIVE: 1}
    assert r.first is Phase.NIGHT and r.max_days == 10
    assert sorted(r.role_list()) == sorted([Role.VILLAGER] * 3 + [Role.MAFIA] * 2
                                           + [Role.DOCTOR, Role.DETECTIVE])


@pytest.mark.parametrize(
    ("players", "mafia", "villagers"),
    [(4, 1, 1), (5, 1, 2), (6, 2, 2), (9, 3, 4), (12, 4, 6), (16, 5, 9)],
)
def test_default_roles_scale_with_players(players, mafia, villagers):
    """About one mafia per three seats, one doctor, one detective, villagers fill the rest."""
    r = make_rules(players=players)
    assert r.roles[Role.MAFIA] == mafia and r.roles[Role.VILLAGER] == villagers
    assert sum(r.roles.values()) == players


def test_given_role_counts_fill_with_villagers():
    """Roles left out keep their default; villagers fill the remaining seats."""
    r = make_rules(players=9, roles={"mafia": 2, "detective": 0})
    assert r.roles == {Role.VILLAGER: 6, Role.MAFIA: 2, Role.DOCTOR: 1, Role.DETECTIVE: 0}


def test_rules_are_immutable():
    """A game's rules cannot change under it."""
    r = make_rules()
    with pytest.raises(Exception):
        r.players = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (dict(foo=1), "foo"),
        (dict(tie_policy="coin"), "tie_policy"),
        (dict(first_phase="dusk"), "first_phase"),
        (dict(reveal_on_death="all"), "reveal_on_death"),
        (dict(players="many"), "players"),
        (dict(players=3), "players"),  # fewer than 4 players
        (dict(players=17), "players"),
        (dict(max_days=0), "max_days"),
        (dict(max_message_chars=0), "max_message_chars"),
        (dict(dm_limit_per_day=-1), "dm_limit_per_day"),
        (dict(roles={"mafia": 4}), "mafia"),  # 4 mafia vs 3 town
        (dict(players=6, roles={"mafia": 3}), "mafia"),  # mafia == town
        (dict(roles={"mafia": 0}), "mafia"),
        (dict(roles={"doctor": -1}), "doctor"),
        (dict(roles={"villager": 5}), "roles"),  # 9 roles for 7 seats
        (dict(players=5, roles={"villager": 1, "mafia": 1}), "roles"),  # 4 roles for 5 seats
        (dict(roles={"wizard": 1}), "roles"),
    ],
)
def test_make_rules_errors_name_the_key(values, named):
    """Every bad rule is one MafiaError line that names the offending key."""
    with pytest.raises(MafiaError) as info:
        make_rules(**values)
    message = str(info.value)
    assert named in message
    assert "\n" not in message
    assert message.startswith("bad rules:")


def test_unknown_key_says_unknown():
    """A typo in a rule name is called out as an unknown rule."""
    with pytest.raises(MafiaError, match=r"foo: unknown rule"):
        make_rules(foo=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mafia=2,doctor=1", {"mafia": 2, "doctor": 1}),
        (" Mafia = 2 , detective=0 ", {"mafia": 2, "detective": 0}),
        ("mafia=1,", {"mafia": 1}),
        ("", {}),
    ],
)
def test_parse_roles_arg(text, expected):
    """`--roles` takes ROLE=COUNT pairs, case-insensitive, spaces allowed."""
    assert parse_roles_arg(text) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [("wizard=1", "wizard"), ("mafia", "mafia"), ("mafia=two", "mafia=two"),
     ("mafia=-1", "mafia=-1")],
)
def test_parse_roles_arg_refuses(text, named):
    """An unknown role or a malformed pair is a MafiaError naming it."""
    with pytest.raises(MafiaError) as info:
        parse_roles_arg(text)
    assert named in str(info.value) and "--roles" in str(info.value)


def test_rules_file_loads(tmp_path: Path):
    """A TOML rules file sets any rule, including role counts."""
    path = tmp_path / "rules.toml"
    path.write_text(
        'players = 9\nfirst_phase = "day"\ndetective_learns = "role"\n'
        "max_public_messages_per_day = 4\n\n[roles]\nmafia = 2\ndoctor = 2\n",
        encoding="utf-8")
    r = make_rules(**load_rules_file(path))
    assert r.players == 9 and r.first is Phase.DAY and r.detective_learns == "role"
    assert r.max_public_messages_per_day == 4
    assert r.roles == {Role.VILLAGER: 4, Role.MAFIA: 2, Role.DOCTOR: 2, Role.DETECTIVE: 1}


def test_rules_file_unknown_key_named(tmp_path: Path):
    """A misspelt key in a rules file is refused by name."""
    path = tmp_path / "rules.toml"
    path.write_text("tie_polcy = 'none'\n", encoding="utf-8")
    with pytest.raises(MafiaError, match="tie_polcy"):
        make_rules(**load_rules_file(path))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "not found"),
        (b"players = \n", "not valid TOML"),
        (b"[roles\nmafia=1\n", "not valid TOML"),
        (b"\xff\xfe players = 5\n", "cannot read"),
    ],
)
def test_rules_file_errors(tmp_path: Path, content, match):
    """Missing, non-TOML and non-UTF-8 rules files are MafiaErrors naming the file."""
    path = tmp_path / "rules.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MafiaError, match=match) as info:
        load_rules_file(path)
    assert str(path) in str(info.value)


def test_rules_file_that_is_a_directory(tmp_path: Path):
    """A directory given as a rules file is a MafiaError, not a crash."""
    with pytest.raises(MafiaError, match="cannot read"):
        load_rules_file(tmp_path)
