"""`mafia train fit --weight`: selectors, refusals, and each example's role, rebuilt from the
game seed for datasets that do not record it, matches the role the seat really had."""

from __future__ import annotations

import pytest

from mafia.errors import MafiaError
from mafia.train.weights import (Weight, example_role, parse_selector, parse_weight, selected,
                                 weigh)


def test_selectors_name_a_kind_a_role_or_both() -> None:
    assert parse_weight("vote=2") == Weight(None, "vote", 2.0)
    assert parse_weight("detective=3") == Weight("detective", None, 3.0)
    assert parse_weight("speak:detective=0.5") == Weight("detective", "speak", 0.5)
    assert str(parse_weight("speak:detective=4")) == "detective:speak=4"
    assert parse_weight("day_action=0").factor == 0.0
    assert parse_weight("miss=3") == Weight(None, None, 3.0, miss=True)
    assert parse_weight("vote:miss:detective=2") == Weight("detective", "vote", 2.0, miss=True)
    assert str(parse_weight("miss:vote=2")) == "vote:miss=2"


@pytest.mark.parametrize("bad", ["vote", "vote=", "vote=-1", "vote=x", "=2", "sheriff=2",
                                 "vote:kill=2", "detective:doctor=2", "vote=nan", "vote=inf",
                                 "miss:miss=2", "missed=2"])
def test_a_bad_selector_is_one_clear_error(bad: str) -> None:
    with pytest.raises(MafiaError, match="--weight"):
        parse_weight(bad)


def test_weights_multiply_over_every_selector_an_example_matches() -> None:
    meta = {"players": 7}
    examples = [{"seat": "Alice", "seed": 1, "kind": "vote", "role": "detective"},
                {"seat": "Bob", "seed": 1, "kind": "speak", "role": "detective"},
                {"seat": "Carol", "seed": 1, "kind": "vote", "role": "villager"},
                {"seat": "Dave", "seed": 1, "kind": "day_action", "role": "mafia"}]
    weights = [parse_weight(w) for w in ("vote=2", "detective=3", "day_action=0")]
    assert weigh(meta, examples, weights) == [6.0, 3.0, 2.0, 0.0]
    assert weigh(meta, examples, []) == [1.0] * 4


def test_miss_selects_the_student_choices_the_teacher_would_not_have_made() -> None:
    """Only DAgger examples carry `played`; a teacher-game example is never a miss."""
    meta = {"players": 7}
    examples = [{"seat": "Alice", "seed": 1, "kind": "vote", "role": "detective",
                 "target": " Eve", "played": " Frank"},
                {"seat": "Alice", "seed": 1, "kind": "vote", "role": "detective",
                 "target": " Eve", "played": " Eve"},
                {"seat": "Bob", "seed": 1, "kind": "vote", "role": "villager", "target": " Eve"},
                {"seat": "Carol", "seed": 1, "kind": "kill", "role": "mafia",
                 "target": " Bob", "played": " Dave"}]
    assert weigh(meta, examples, [parse_weight("miss=4")]) == [4.0, 1.0, 1.0, 4.0]
    assert weigh(meta, examples, [parse_weight("vote:miss=4"), parse_weight("vote=2")]) == \
        [8.0, 2.0, 2.0, 1.0]


def test_a_role_missing_from_an_example_is_rebuilt_from_its_game_seed(tmp_path) -> None:
    """Over every example of a few teacher games: the role dealt by the seed is the one the
    dataset recorded."""
    from mafia.cli import main
    from mafia.train.data import read_dataset

    out = tmp_path / "d.jsonl"
    assert main(["train", "data", "--games", "3", "--seed", "9", "--players", "8",
                 "--out", str(out)]) == 0
    meta, examples = read_dataset(out)
    assert len({e["role"] for e in examples}) == 4  # villager, mafia, doctor, detective
    for e in examples:
        bare = {k: v for k, v in e.items() if k != "role"}
        assert example_role(meta, bare) == e["role"]


@pytest.mark.parametrize("bad", ["vote=2", "sheriff", "", "vote:kill"])
def test_a_bad_only_selector_is_one_clear_error_naming_the_flag(bad: str) -> None:
    with pytest.raises(MafiaError, match=f"--only {bad}"):
        parse_selector(bad)


def test_only_keeps_an_example_that_any_selector_matches() -> None:
    meta = {"players": 7}
    ex = [{"seat": 0, "seed": 1, "role": "detective", "kind": "speak", "target": " x\n"},
          {"seat": 1, "seed": 1, "role": "doctor", "kind": "protect", "target": " A",
           "played": " B"},
          {"seat": 2, "seed": 1, "role": "villager", "kind": "vote", "target": " A"}]
    keep = [parse_selector("detective:speak"), parse_selector("protect:miss")]
    assert [selected(meta, e, keep) for e in ex] == [True, True, False]
    assert all(selected(meta, e, []) for e in ex)
