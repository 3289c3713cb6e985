"""Beliefs: who is surely what, how far each detective claim is credible, and a suspicion
score per living player, all from a Table plus what one player privately knows.

Scores are points, not probabilities: +100/-100 for a player known to be mafia/town, about
+-7 for an accusation/clearing by a credible detective claimant, about 1 for weaker signals
(accusations by ordinary players, votes for players later shown to be town). The same code
gives a *neutral* view (public facts only), which mafia use to predict whom the town will
vote and detectives use to see when the town is about to vote out a player they cleared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mafia import rules
from mafia.enums import Role, Team

from mafia.agents.heuristic.table import Said, Table

MAFIA, TOWN = Team.MAFIA, Team.TOWN
# Roles whose check shows town although they are not (the godfather).
_SHOWN_AS_TOWN = frozenset(r.value for r in Role if r.spec.appears_as
                           and Role(r.spec.appears_as).team is Team.TOWN and r.team is not TOWN)
SURE = 100.0  # the score of a player known to be mafia
CREDIBLE = 0.85  # trust in an uncontested detective claim
CLAIM_ACCUSE, CLAIM_CLEAR = 10.0, 6.0  # points per unit of (2 * trust - 1)
CONFLICT = 3.0  # points per unit of distrust for a contested claimant: one of them lies
REACTIVE = 0.2  # trust lost by claiming only after a claimant accused you
FIRST = 0.2  # trust gained by claiming first: the counter-claim is more often the lie


@dataclass(frozen=True)
class View:
    known: dict[str, Team]  # players whose team is certain from this point of view
    trust: dict[str, float]  # detective claimant -> how credible (0 liar .. 1 confirmed)
    scores: dict[str, float]  # living player -> suspicion points

    def ranked(self, candidates: Iterable[str], order: Mapping[str, int]) -> list[str]:
        """Most suspicious first; ties by the focal order (shared by every player)."""
        return sorted(candidates, key=lambda p: (-self.scores.get(p, 0.0), order.get(p, 0)))

    def contested(self) -> bool:
        return any(0.0 < t < CREDIBLE for t in self.trust.values())


def focal_order(table: Table, day: int, published: Sequence[str] = ()) -> dict[str, int]:
    """The round's public order (PhaseStarted.order; drawn again from the public seed for an
    observation without one): where the evidence ties, every heuristic player breaks the tie
    the same way, so the town votes together instead of scattering its votes (a Schelling
    point every seat can read)."""
    seats = published or rules.round_order(table.seed, day, table.seats)
    return {p: i for i, p in enumerate(seats)}


def results(table: Table, claimant: str) -> list[Said]:
    """What a detective claimant asserted about others from their claim on: their findings."""
    start = table.detective_claims[claimant]
    return [s for s in table.said if s.claim.speaker == claimant and s.seq >= start
            and s.claim.kind in ("accuse", "clear")]


def _falsified(table: Table, findings: Sequence[Said], known: Mapping[str, Team]) -> bool:
    for s in findings:
        team = known.get(s.claim.subject)
        if team is not None and (team is MAFIA) != (s.claim.kind == "accuse"):
            if table.revealed_role.get(s.claim.subject) in _SHOWN_AS_TOWN and s.claim.kind == "clear":
                continue  # a true check of a godfather says town
            return True
    return False


def _trust(table: Table, known: Mapping[str, Team]) -> dict[str, float]:
    slots = table.count("detective")
    trust: dict[str, float] = {}
    open_: list[str] = []
    for c in table.detective_claims:
        if (known.get(c) not in (None, TOWN) or slots == 0
                or _falsified(table, results(table, c), known)):
            trust[c] = 0.0
        elif known.get(c) is TOWN:
            trust[c] = 1.0
        else:
            open_.append(c)
    slots -= sum(1 for t in trust.values() if t == 1.0)
    for c in open_:
        if slots <= 0:
            trust[c] = 0.0
        elif len(open_) <= slots:
            trust[c] = CREDIBLE
        else:
            base = slots / len(open_)
            claimed = table.detective_claims[c]
            accused_first = any(
                s.claim.kind == "accuse" and s.claim.subject == c and s.seq < claimed
                and s.claim.speaker in open_ and table.detective_claims[s.claim.speaker] <= s.seq
                for s in table.said)
            first = FIRST if claimed == min(table.detective_claims[o] for o in open_) else 0.0
            trust[c] = min(0.8, max(0.05, base + first - (REACTIVE if accused_first else 0.0)))
    return trust


def read(table: Table, alive: Sequence[str], private: Mapping[str, Team], day: int) -> View:
    """Beliefs from public facts plus `private` (one's own role, findings, teammates)."""
    known: dict[str, Team] = dict(private)
    for p, team in table.revealed.items():
        known.setdefault(p, team)
    for p in table.night_killed if not table.shooters else ():
        known.setdefault(p, TOWN)  # the mafia never kill their own
    trust: dict[str, float] = {}
    for _ in range(4):  # a confirmed claim can confirm or expose another claimant
        trust = _trust(table, known)
        before = len(known)
        for c, t in trust.items():
            if t == 0.0:
                known.setdefault(c, MAFIA)
            elif t == 1.0:
                for s in results(table, c):
                    known.setdefault(s.claim.subject, MAFIA if s.claim.kind == "accuse" else TOWN)
        if len(known) == before:
            break
    return View(known, trust, _scores(table, alive, known, trust, day))


def _scores(table: Table, alive: Sequence[str], known: Mapping[str, Team],
            trust: Mapping[str, float], day: int) -> dict[str, float]:
    points: defaultdict[str, float] = defaultdict(float)
    seen: set[tuple[str, str, str, int]] = set()
    for s in table.said:
        c = s.claim
        if c.kind == "role":
            continue
        result = c.speaker in trust and s.seq >= table.detective_claims[c.speaker]
        key = (c.kind, c.speaker, c.subject, -1 if result else s.day)  # a finding counts once
        if key in seen:
            continue
        seen.add(key)
        accuse = c.kind == "accuse"
        if result:
            unit = 2 * trust[c.speaker] - 1
            points[c.subject] += unit * (CLAIM_ACCUSE if accuse else -CLAIM_CLEAR)
            continue
        speaker = known.get(c.speaker)
        weight = (1.0 if speaker is TOWN else -0.8 if speaker is MAFIA else 0.5)
        weight *= 1.0 if s.day == day else 0.5
        points[c.subject] += weight if accuse else -0.2 * weight
        subject = known.get(c.subject)  # what this statement says about its speaker
        if subject is TOWN and accuse:
            points[c.speaker] += 1.0
        elif subject is MAFIA:
            points[c.speaker] += -0.8 if accuse else 2.0
    for d, votes in table.votes.items():
        out = table.eliminated.get(d)
        for voter, target in votes.items():
            team = known.get(target or "")
            if team is TOWN:
                points[voter] += 0.3 if target == out else 0.5
            elif team is MAFIA:  # so whoever kept their vote off a caught mafia stands out
                points[voter] -= 0.6
            if trust.get(target or "", 0.0) >= CREDIBLE:
                points[voter] += 1.5
    for c, t in trust.items():
        if 0.0 < t < CREDIBLE:
            points[c] += CONFLICT * (1 - t)
    out: dict[str, float] = {}
    for p in alive:
        team = known.get(p)
        # Known not to be mafia (town, or a found jester whom voting out would hand the win)
        base = SURE if team is MAFIA else -SURE if team is not None else 0.0
        out[p] = round(base + points[p], 6)
    return out
