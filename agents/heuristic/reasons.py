"""Why a heuristic player suspects someone, as a fact of the public record: a detective
claimant named them, they voted for a player revealed as town, they vouched for a player
revealed as mafia, or they claimed detective after someone else did. Facts only: a reason is
never invented."""

from __future__ import annotations

from mafia.enums import Team

from mafia.agents.heuristic.beliefs import results
from mafia.agents.heuristic.speech import reason_text
from mafia.agents.heuristic.turn import Turn


def reason_for(t: Turn, name: str) -> str:
    """One reason to suspect `name` ("" when the record holds none), drawn with the voice."""
    table = t.table
    found: list[tuple[str, str]] = []
    for c in table.detective_claims:
        if c not in (name, t.me) and any(s.claim.kind == "accuse" and s.claim.subject == name
                                         for s in results(table, c)):
            found.append(("claim_says", c))
    for votes in table.votes.values():
        target = votes.get(name)
        if target and table.revealed.get(target) is Team.TOWN:
            found.append(("voted_town", target))
    for s in table.said:
        if (s.claim.speaker == name and s.claim.kind == "clear"
                and table.revealed.get(s.claim.subject) is Team.MAFIA):
            found.append(("defended_mafia", s.claim.subject))
    first = table.detective_claims.get(name)
    for c, seq in table.detective_claims.items():
        if c != name and first is not None and seq < first:
            found.append(("contested", c))
    if not found:
        return ""
    kind, other = t.memory.voice.choice(sorted(set(found)))
    return reason_text(kind, name, other, t.memory.voice)
