"""Speech against the facts (mafia.report.truth): the four figures and the pooled bigram
variety on hand-built transcripts with known answers, and the detectors on single lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from transcripts import HandTranscript

from mafia.config import make_rules
from mafia.events import InvestigationResult, LastWords, Message, PhaseStarted, PlayerDied
from mafia.report.build import build_report
from mafia.report.json_out import report_json
from mafia.report.speech import pooled_bigrams
from mafia.report.load import load_games
from mafia.report.truth import absent_names, called_dead, kill_proposal

SEATS = ("Alice", "Bob", "Carol", "Dave", "Eve")


@pytest.mark.parametrize("text, names", [
    ("Mia is lying, and Tom agrees.", {"Mia", "Tom"}),
    ("Heidi is mafia.", {"Heidi"}),  # a seat name of bigger tables, not of this one
    ("Bob is mafia. Vote Bob.", set()),
    ("Maybe we should wait. Kill nobody.", set()),  # capitalised words that are not names
])
def test_absent_names(text: str, names: set[str]) -> None:
    assert absent_names(text, SEATS) == names


@pytest.mark.parametrize("text, dead", [
    ("Carol is dead.", {"Carol"}),
    ("I think Bob was killed", {"Bob"}),
    ("dead Carol tells no tales", {"Carol"}),
    ("Carol is deadly serious", set()),
    ("Eve was voted out yesterday", set()),  # Eve is not alive: a true statement
    ("Let's kill Carol.", set()),
])
def test_called_dead(text: str, dead: set[str]) -> None:
    assert called_dead(text, ("Alice", "Bob", "Carol", "Dave")) == dead


@pytest.mark.parametrize("text, target", [
    ("Let's kill Bob.", "Bob"), ("Target carol tonight", "Carol"), ("Agreed.", None),
    ("kill Mia", None),
])
def test_kill_proposal(text: str, target: str | None) -> None:
    assert kill_proposal(text, SEATS) == target


def _game(tmp_path: Path) -> Path:
    """Eve (detective) checks Alice (mafia) on night 1 and Bob (town) on night 2; Dave dies on
    night 1. Messages, in order (speaker: what the figures read):
      day 1  Eve: "I checked Alice: mafia."          report, agrees
             Bob: "Dave is dead and Carol is dead."   calls Carol dead (alive): 1
             Carol: "Mia told me so."                 absent name: 1
             Eve: "I checked Alice: town."            report, contradicts
             Eve: "I checked Carol: mafia."           not checked: no report
      night 2 mafia chat Alice: "Let's kill Dave."    proposal of a dead player
              mafia chat Alice: "Let's kill Bob."     proposal of a living player
      day 2  Eve: "I checked Bob: town."              report, agrees
             Bob (last words): "Bob is dead."         Bob is still alive: calls him dead
    """
    roles = {"Alice": "mafia", "Bob": "villager", "Carol": "villager", "Dave": "doctor",
             "Eve": "detective"}
    g = HandTranscript(make_rules(players=5).model_dump(mode="json"), roles,
                       {"Eve": {"kind": "random", "spec": "eve"}})
    g.add(PhaseStarted, 1, "night")
    g.add(InvestigationResult, 1, "night", ["Eve"], detective="Eve", target="Alice",
          result="mafia")
    g.add(PhaseStarted, 1, "day")
    g.add(PlayerDied, 1, "day", player="Dave", cause="night", role="doctor")
    for who, text in (("Eve", "I checked Alice: mafia."),
                      ("Bob", "Dave is dead and Carol is dead."),
                      ("Carol", "Mia told me so."), ("Eve", "I checked Alice: town."),
                      ("Eve", "I checked Carol: mafia.")):
        g.add(Message, 1, "day", channel="public", sender=who, text=text)
    g.add(PhaseStarted, 2, "night")
    for text in ("Let's kill Dave.", "Let's kill Bob."):
        g.add(Message, 2, "night", ["Alice"], channel="mafia", sender="Alice", text=text)
    g.add(InvestigationResult, 2, "night", ["Eve"], detective="Eve", target="Bob",
          result="town")
    g.add(PhaseStarted, 2, "day")
    g.add(Message, 2, "day", channel="public", sender="Eve", text="I checked Bob: town.")
    g.add(LastWords, 2, "day", player="Bob", text="Bob is dead.")
    g.add(PlayerDied, 2, "day", player="Bob", cause="vote", role="villager")
    g.write(tmp_path / "g.jsonl", "mafia", 2)
    return tmp_path


def test_truth_figures_on_a_hand_built_game(tmp_path: Path) -> None:
    sp = report_json(build_report(_game(tmp_path), bootstrap=0,
                                  baseline_games=0))["quality"]["speech"]
    assert sp["by_spec"]["eve"]["detective_reports"] == 3
    assert sp["messages"] == 9
    assert sp["absent_names"] == 1
    assert sp["called_dead"] == 2
    assert (sp["detective_reports"], sp["detective_contradicted"]) == (3, 1)
    assert sp["detective_contradicted_rate"] == pytest.approx(1 / 3)
    assert (sp["kill_proposals"], sp["dead_kill_proposals"]) == (2, 1)


def test_pooled_bigrams_count_the_first_messages_only(tmp_path: Path) -> None:
    games = load_games(_game(tmp_path)).games
    # first two messages: "i checked alice mafia" (3 pairs), "dave is dead and carol is dead"
    # (6 pairs, "is dead" twice): 9 pairs, 8 distinct
    assert pooled_bigrams(games, None, limit=2) == (8, 9)
    # Eve's messages only: "i checked alice mafia", "... alice town", "... carol mafia",
    # "... bob town": 12 pairs; distinct: i checked, checked alice, alice mafia, alice town,
    # checked carol, carol mafia, checked bob, bob town = 8
    assert pooled_bigrams(games, "eve") == (8, 12)
    assert pooled_bigrams(games, "eve", limit=1) == (3, 3)
