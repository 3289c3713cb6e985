"""How players speak, from the events alone: repeats, bigram variety, naming living players,
degenerate lines, words and tokens per message. Counted per model spec of the speaker.

A *message* here is any `message` event (public, dm, mafia channel) or `last_words` event;
*public* speech is the public messages and the last words (everyone hears both)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from mafia.claims import detect_findings
from mafia.enums import Channel, Role
from mafia.events import (
    BaseEvent, InvestigationResult, LastWords, Message, ModelCall, PlayerDied,
)
from mafia.report.load import Game
from mafia.report.truth import absent_names, called_dead, kill_proposal
from mafia.text import normalise

WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
# A list marker standing alone as one whitespace-separated token: "1." "(ii)" "iii)" "a:" "-".
ENUMERATOR = re.compile(
    r"^(?:\(?(?:\d{1,3}|[ivxlcdm]{1,6}|[a-z])[.):]|\((?:\d{1,3}|[ivxlcdm]{1,6}|[a-z])\)"
    r"|[-*#>\u2022\u2013\u2014]+)$", re.I)


def spoken(event: BaseEvent) -> tuple[str, str, str] | None:
    """(speaker, "public" or "private", text) of a message or last words; None otherwise."""
    if isinstance(event, Message):
        return event.sender, "public" if event.channel is Channel.PUBLIC else "private", event.text
    if isinstance(event, LastWords):
        return event.player, "public", event.text
    return None


def words(text: str) -> list[str]:
    """Lowercased runs of letters/digits/underscore, apostrophes inside kept ("don't")."""
    return WORD.findall(text.lower())


def bigram_variety(ws: Sequence[str]) -> float | None:
    """Distinct word bigrams / all word bigrams; None under two words."""
    pairs = list(zip(ws, ws[1:]))
    return len(set(pairs)) / len(pairs) if pairs else None


def is_degenerate(text: str) -> bool:
    """Fewer than three words once every token that is a lone enumerator is dropped."""
    kept = " ".join(t for t in text.split() if not ENUMERATOR.match(t))
    return len(words(kept)) < 3


@lru_cache(maxsize=64)
def _name(name: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(name)}\b", re.I)


def names_in(text: str, names: Iterable[str]) -> set[str]:
    """The names that occur in `text` as whole words, ignoring case."""
    return {n for n in names if _name(n).search(text)}


@dataclass
class SpeechTally:
    messages: int = 0
    repeats: int = 0  # normalised text equal to an earlier message's of the same game
    variety_sum: float = 0.0  # bigram variety summed over messages of two words or more
    variety_messages: int = 0
    degenerate: int = 0
    words: int = 0
    public: int = 0
    naming: int = 0  # public messages naming a living player other than the speaker
    text_calls: int = 0  # model calls with purpose "text"
    text_tokens: int = 0
    # Whether speech fits the game (definitions in mafia.report.truth):
    absent: int = 0  # messages naming someone not at the table
    called_dead: int = 0  # messages saying a living player is dead
    reports: int = 0  # the detective's reports of a check it made
    contradicted: int = 0  # ... that say another team than it learnt
    proposals: int = 0  # mafia-channel kill proposals
    dead_proposals: int = 0  # ... of a player already dead
    # Pooled bigrams of the first POOLED_MESSAGES messages (set by `speech`, not summed).
    pooled_distinct: int = 0
    pooled_pairs: int = 0

    def to_json(self) -> dict[str, object]:
        return {"messages": self.messages, "repeats": self.repeats,
                "repeat_rate": _mean(self.repeats, self.messages),
                "bigram_variety": _mean(self.variety_sum, self.variety_messages),
                "degenerate": self.degenerate,
                "degenerate_rate": _mean(self.degenerate, self.messages),
                "words_per_message": _mean(self.words, self.messages),
                "public": self.public, "naming": self.naming,
                "naming_rate": _mean(self.naming, self.public),
                "text_calls": self.text_calls,
                "tokens_per_text_call": _mean(self.text_tokens, self.text_calls),
                "absent_names": self.absent, "absent_rate": _mean(self.absent, self.messages),
                "called_dead": self.called_dead,
                "called_dead_rate": _mean(self.called_dead, self.messages),
                "detective_reports": self.reports,
                "detective_contradicted": self.contradicted,
                "detective_contradicted_rate": _mean(self.contradicted, self.reports),
                "kill_proposals": self.proposals,
                "dead_kill_proposals": self.dead_proposals,
                "pooled_bigram_variety": _mean(self.pooled_distinct, self.pooled_pairs)}


POOLED_MESSAGES = 1000  # pooled bigram variety: over the first this many messages


def speech(games: Sequence[Game]) -> tuple[SpeechTally, dict[str, SpeechTally]]:
    """Over all speakers, and per spec (sorted)."""
    total, by_spec = SpeechTally(), {}
    for game in games:
        for spec, tally in _game(game):
            for t in (total, by_spec.setdefault(spec, SpeechTally())):
                _merge(t, tally)
    for spec, tally in [("", total), *by_spec.items()]:
        tally.pooled_distinct, tally.pooled_pairs = pooled_bigrams(games, spec or None)
    return total, dict(sorted(by_spec.items()))


def pooled_bigrams(games: Sequence[Game], spec: str | None,
                   limit: int = POOLED_MESSAGES) -> tuple[int, int]:
    """(distinct word bigrams, all word bigrams) over the first `limit` messages (games in
    the order given, messages in game order) of speakers of `spec` (None: everyone). A
    speaker who says the same few lines in every game scores low here even when each line
    on its own has no repeated bigram."""
    pairs: list[tuple[str, str]] = []
    n = 0
    for game in games:
        for event in game.events:
            said = spoken(event)
            if said is None or said[0] not in game.seats:
                continue
            if spec is not None and game.seats[said[0]].spec != spec:
                continue
            ws = words(said[2])
            pairs.extend(zip(ws, ws[1:]))
            n += 1
            if n >= limit:
                return len(set(pairs)), len(pairs)
    return len(set(pairs)), len(pairs)


def _game(game: Game) -> Iterable[tuple[str, SpeechTally]]:
    tallies = {name: SpeechTally() for name in game.seats}
    alive = set(game.seats)
    seen: set[str] = set()
    checks: dict[str, str] = {}  # the detective's checks so far: target -> team learnt
    for event in game.events:
        if isinstance(event, PlayerDied):
            alive.discard(event.player)
        elif isinstance(event, InvestigationResult):
            checks[event.target] = team_of(event.result)
        elif isinstance(event, ModelCall) and event.purpose == "text" and event.player in tallies:
            tallies[event.player].text_calls += 1
            tallies[event.player].text_tokens += event.generated_tokens
        said = spoken(event)
        if said is None or said[0] not in tallies:
            continue
        speaker, where, text = said
        t = tallies[speaker]
        ws = words(text)
        key = normalise(text)
        t.messages += 1
        t.repeats += key in seen
        seen.add(key)
        variety = bigram_variety(ws)
        if variety is not None:
            t.variety_sum += variety
            t.variety_messages += 1
        t.degenerate += is_degenerate(text)
        t.words += len(ws)
        if where == "public":
            t.public += 1
            t.naming += bool(names_in(text, alive - {speaker}))
        t.absent += bool(absent_names(text, game.seats))
        t.called_dead += bool(called_dead(text, alive))
        if game.seats[speaker].role is Role.DETECTIVE:
            for claim in detect_findings(text, speaker, tuple(game.seats)):
                if claim.subject in checks:
                    t.reports += 1
                    t.contradicted += team_of(claim.value) != checks[claim.subject]
        if isinstance(event, Message) and event.channel is Channel.MAFIA:
            target = kill_proposal(text, game.seats)
            if target is not None:
                t.proposals += 1
                t.dead_proposals += target not in alive
    return ((game.seats[name].spec, t) for name, t in tallies.items())


def team_of(value: str) -> str:
    """The team a check result or a claimed finding names ("innocent", a town role: town)."""
    return "mafia" if value == "mafia" else "town"


def _merge(into: SpeechTally, t: SpeechTally) -> None:
    for field in SpeechTally.__dataclass_fields__:
        setattr(into, field, getattr(into, field) + getattr(t, field))


def _mean(total: float, n: int) -> float | None:
    return total / n if n else None
