"""Cleaning speech before it enters the game: one message, no impersonation, capped length."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# A line that opens like a chat turn of someone else ("Bob:", "Narrator:", "[Carol]:").
_SPEAKER_TAG = re.compile(r"^\s*[\[(*]*([A-Z][\w' .-]{0,24}?)[\])*]*\s*:")
_SPACES = re.compile(r"\s+")
_KEEP_FORMAT = {"\u200d", "\ufe0f"}  # emoji joiners and variation selectors are fine


def _strip_controls(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat[0] == "C" and ch not in _KEEP_FORMAT:
            continue
        out.append(ch)
    return "".join(out)


def clean_speech(text: str, speaker: str, names: Iterable[str], max_chars: int) -> str:
    """One clean message from raw player output; "" means the player stays silent.

    - control characters go; whitespace collapses to single spaces;
    - a leading "Speaker:" of the speaker's own name is dropped;
    - the message ends before any later line that opens with a speaker tag ("Bob: ...");
      a first line that opens with another seat's name and a colon is impersonation: silence;
    - the result is cut to `max_chars` characters.
    """
    if not isinstance(text, str):
        return ""
    text = _strip_controls(text[: max_chars * 8])  # bound the work on huge outputs
    others = {n.lower() for n in names if n != speaker}
    kept: list[str] = []
    for i, line in enumerate(text.split("\n")):
        match = _SPEAKER_TAG.match(line)
        if match:
            tag = match.group(1).strip().lower()
            if i == 0 and tag == speaker.lower():
                line = line[match.end():]
            elif i == 0 and tag in others:
                break
            elif i > 0:
                break
        kept.append(line)
    message = _SPACES.sub(" ", " ".join(kept)).strip()
    return message[:max_chars].rstrip()
