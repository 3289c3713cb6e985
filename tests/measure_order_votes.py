"""Run by hand: `python tests/measure_order_votes.py FOLDER...` (seconds). How the town's day
votes relate to the round's public order (`phase_started`'s `order`, since 0.4.7), which the
teacher uses to break ties where the evidence does not decide: the share of town votes on the
order's first living player other than the voter, and on a mafia player. A student that has
learned the order as a rule (not a tie-break) votes that first player more often than the
teacher does, also where the teacher follows evidence. Used for round 10: docs/training.md."""
import collections
import json
import sys
from pathlib import Path


def games(folder: str):
    for p in sorted(Path(folder).glob("game-*.jsonl")):
        ev = [json.loads(line) for line in open(p)]
        if ev and ev[-1]["kind"] == "game_over":
            yield ev


def analyse(folder: str) -> collections.Counter:
    c: collections.Counter = collections.Counter()
    for ev in games(folder):
        roles = ev[-1]["roles"]
        mafia_side = {p for p, r in roles.items() if r in ("mafia", "godfather")}
        alive, order = set(roles), []
        for e in ev:
            if e["kind"] == "phase_started":
                order = e.get("order") or []
            elif e["kind"] == "player_died":
                alive.discard(e["player"])
            elif e["kind"] == "vote_cast" and e["voter"] not in mafia_side and e["target"]:
                first = next((p for p in order if p in alive and p != e["voter"]), None)
                c["town votes"] += 1
                c["first"] += e["target"] == first
                c["on mafia"] += e["target"] in mafia_side
                c["first is mafia"] += first in mafia_side
    return c


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        c = analyse(folder)
        n = max(c["town votes"], 1)
        print(f"{folder}: {c['town votes']} town votes; on the order's first living other "
              f"player {100 * c['first'] / n:.1f}%; on mafia "
              f"{100 * c['on mafia'] / n:.1f}% (the order's first is mafia for "
              f"{100 * c['first is mafia'] / n:.1f}%)")
