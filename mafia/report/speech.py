"""How players speak, from the events alone: repeats, bigram variety, naming living players,
degenerate lines, words and tokens per message. Counted per model spec of the speaker.

A *message* here is any `message` event (public, dm, mafia channel) or `last_words` event;
*public* speech is the public messages and the last words (everyone hears both)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from mafia.enums import Channel
from mafia.events import BaseEvent, LastWords, Message, ModelCall, PlayerDied
from mafia.report.load import Game

WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
# A list marker standing alone as one whitespace-separated token: "1." "(ii)" "iii)" "a:" "-".
ENUMERATOR = re.compile(
    r"^(?:\(?(?:\d{1,3}|[ivxlcdm]{1,6}|[a-z])[.):]|\((?:\d{1,3}|[ivxlcdm]{1,6}|[a-z])\)"
    r"|[-*#>\u2022\u2013\u2014]+)$", re.I)
_EDGES = re.compile(r"^\W+|\W+$")


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


def normalise(text: str) -> str:
    """Lowercased, whitespace collapsed to one space, leading/trailing non-word chars dropped."""
    return _EDGES.sub("", " ".join(text.lower().split()))


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
                "tokens_per_text_call": _mean(self.text_tokens, self.text_calls)}


def speech(games: Sequence[Game]) -> tuple[SpeechTally, dict[str, SpeechTally]]:
    """Over all speakers, and per spec (sorted)."""
    total, by_spec = SpeechTally(), {}
    for game in games:
        for spec, tally in _game(game):
            for t in (total, by_spec.setdefault(spec, SpeechTally())):
                _merge(t, tally)
    return total, dict(sorted(by_spec.items()))


def _game(game: Game) -> Iterable[tuple[str, SpeechTally]]:
    tallies = {name: SpeechTally() for name in game.seats}
    alive = set(game.seats)
    seen: set[str] = set()
    for event in game.events:
        if isinstance(event, PlayerDied):
            alive.discard(event.player)
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
    return ((game.seats[name].spec, t) for name, t in tallies.items())


def _merge(into: SpeechTally, t: SpeechTally) -> None:
    for field in SpeechTally.__dataclass_fields__:
        setattr(into, field, getattr(into, field) + getattr(t, field))


def _mean(total: float, n: int) -> float | None:
    return total / n if n else None
