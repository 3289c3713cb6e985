"""Cleaning speech before it enters the game: one message, no impersonation, capped length."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# A line that opens like a chat turn ("Bob:", "Narrator:", "[Carol]:", "*Dave*:").
_SPEAKER_TAG = re.compile(r"^\s*[\[(*]*([A-Za-z][\w' .-]{0,24}?)[\])*]*\s*:")
_SPACES = re.compile(r"\s+")
_EMOJI_JOINERS = {"\u200d", "\ufe0f"}  # kept only inside emoji sequences
_EDGES = re.compile(r"^\W+|\W+$")


def normalise(text: str) -> str:
    """A message as compared for word-for-word repeats (the report's and the heuristic's):
    lowercased, whitespace collapsed to one space, leading/trailing non-word chars dropped."""
    return _EDGES.sub("", " ".join(text.lower().split()))


def _strip_controls(text: str) -> str:
    """Drop control, format and surrogate characters; keep newlines for splitting, and keep
    emoji joiners only right after a symbol (so they cannot hide a name like "\\u200dBob:")."""
    if text.isprintable():  # the common case: nothing to drop (isprintable is False for \n)
        return text
    out: list[str] = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
            continue
        if ch in _EMOJI_JOINERS:
            if out and unicodedata.category(out[-1]) in ("So", "Sk", "Mn", "Cf"):
                out.append(ch)
        elif unicodedata.category(ch)[0] != "C":
            out.append(ch)
    return "".join(out)


def _tag(line: str) -> tuple[str, int] | None:
    # Marks at the start of a line attach to nothing visible; they must not hide a name.
    start = 0
    while start < len(line) and unicodedata.category(line[start])[0] == "M":
        start += 1
    match = _SPEAKER_TAG.match(line[start:])
    return (match.group(1).strip().lower(), start + match.end()) if match else None


def clean_speech(text: str, speaker: str, names: Iterable[str], max_chars: int) -> str:
    """One clean message from raw player output; "" means the player stays silent.

    - control characters go; whitespace collapses to single spaces;
    - a leading "Speaker:" of the speaker's own name is dropped (repeatedly);
    - a first line that then opens with another seat's name and a colon is impersonation:
      the player stays silent;
    - the message ends before any later line that opens with a speaker tag ("Bob: ...");
    - the result is cut to `max_chars` characters.
    """
    if not isinstance(text, str):
        return ""
    text = _strip_controls(text[: max_chars * 8])  # bound the work on huge outputs
    me = speaker.lower()
    others = {n.lower() for n in names} - {me}
    lines = text.split("\n")
    first = lines[0]
    while (tag := _tag(first)) and tag[0] == me:
        first = first[tag[1]:]
    if (tag := _tag(first)) and tag[0] in others:
        return ""
    kept = [first]
    for line in lines[1:]:
        tag = _tag(line)
        if tag and (tag[0] in others or tag[0] == me or line.lstrip("[(* ")[:1].isupper()):
            break
        kept.append(line)
    message = _SPACES.sub(" ", " ".join(kept)).strip()
    return message[:max_chars].rstrip()
