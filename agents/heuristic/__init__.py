"""A rule-based baseline that plays Mafia sensibly from its observation alone.

Reading the table (table.py, beliefs.py). Public messages and last words go through the
shared claim detector (mafia.claims). From them, the deaths (a night victim is always town;
a revealed role or team is certain), the votes and the player's own knowledge, each player
keeps: who is surely mafia or town; how credible each detective claim is (uncontested: 0.85;
two claimants for one detective: 0.5 each, +0.2 for the one who claimed first, -0.2 for one
who claimed only after a claimant named them; a claim proven wrong by a reveal, or naming
the player itself as mafia when it is town: a liar, hence mafia; a claimant revealed or
killed as town: confirmed, and so are their findings); and a suspicion score per living
player (accusations by credible claimants count most, a contested claimant is suspect
itself; then accusations by players known to be town; votes for players later shown to be
town and accusations of them count against the voter or accuser, votes for a revealed mafia
for them; defending a player later shown to be mafia counts heavily). Ties are broken by the
round's public order of the seats (drawn by the engine, shown to every seat), which every
heuristic player shares, so the town votes together instead of scattering its votes.

Town. The detective investigates unchecked players, the most suspicious first; it claims
("I am the detective. X is mafia.") as soon as it has found a living mafia, calls any other
detective claimant a liar, clears players ("Y is town.") when the town is about to vote one
of them out or once it has claimed anyway, claims when it is about to be voted out itself,
and votes the mafia it found. The doctor protects the most credible detective claimant (as
often as the claim is credible), else itself now and then, else a player known to be town;
the rules on self and repeat saves apply through the legal options. Everyone votes the most
suspicious living player (several known mafia: the one the town goes for), says "I suspect
X." (or "X is mafia." when sure) for their top suspect when there is evidence, "I am not
mafia. X is lying." when a claimant names them, and in their last words tell what they know.

Mafia. The first mafia to speak at night proposes "Kill X. Tomorrow we vote Y." and the
others agree (Y: the town player the town likeliest votes, other than X); the
target is a claimed detective, then a claimed doctor, then the loudest accuser of a mafia
member, else anyone but the town's favourite suspect (the town may vote that one out for
them); a target saved last night is left alone for a night, unless repeat saves are banned.
By day they vote the town player the town is most likely to vote out (Y where the evidence
ties: a tie-break written in their channel, which their teammate can read), and on a day
without evidence may say so in public, as the town does ("Nothing to go on yet, so my vote
goes to Y."), a line the town does not read as evidence; a teammate only
when the town surely votes them out anyway (their score leads by 6 points). When a detective
claimant names one of them, a teammate not named (else the named one) counter-claims ("I am
the detective. D is lying."); in about 30% of games the lead mafia fakes a detective claim
on day one, naming the town's likeliest target. Otherwise they join (never lead) the town's
suspicion of a town player. The parameters were set by measuring all-heuristic games: e.g.
without the first-claim bonus, counter-claims won the mafia about 10 points more games.

Every answer is one of the request's options (abstaining only when nothing else is legal);
all randomness comes from the player's own generator, seeded from the game seed and seat.
"""

from mafia.agents.heuristic.player import HeuristicPlayer

__all__ = ["HeuristicPlayer"]
