"""Run by hand: `python tests/measure_town_play.py FOLDER...` (seconds). Where a town side's
play gains or loses, step by step, from a sweep's transcripts (town seats only; claims read
by mafia.claims): how often the detective's checks find a mafia, whether it names a living
mafia it found in public (by the end of that day), whether its public findings are true,
whether it votes its find, whether the other town seats vote a mafia the detective truly
named, whether the doctor protects the detective once it has claimed, how often other town
seats make detective claims, and when the detective dies. Used to compare the trained town
with the teacher's against the same (random) mafia: docs/training.md."""
import json, sys, collections
from pathlib import Path
from mafia.claims import detect_claims, detect_findings

def games(folder):
    for p in sorted(Path(folder).glob("game-*.jsonl")):
        ev = [json.loads(l) for l in open(p)]
        if ev and ev[-1]["kind"] == "game_over":
            yield ev

def analyse(folder):
    C = collections.Counter()
    for ev in games(folder):
        roles = ev[-1]["roles"]; seats = list(roles)
        mafia = {p for p, r in roles.items() if r == "mafia"}
        det = next((p for p, r in roles.items() if r == "detective"), None)
        doc = next((p for p, r in roles.items() if r == "doctor"), None)
        alive = set(seats); found = {}  # detective's known results
        public_accused = {}  # by true detective: subject -> seq
        checked = set(); claimed_det = False
        C["games"] += 1; C["town_wins"] += ev[-1]["winner"] == "town"
        day = 0; named_today = set(); dawn = set()
        for e in ev:
            k = e["kind"]
            if k == "phase_started":
                if e["phase"] == "day":
                    day = e["day"]; named_today = set()
                    knows = [m for m in found if found[m] == "mafia" and m in alive]
                    dawn = set(knows) if det in alive else set()
                    if dawn:
                        C["det_days_knowing"] += 1
                if e["phase"] == "night" and day >= 1 and dawn:
                    C["det_days_named"] += bool(set(public_accused) & dawn)
                    dawn = set()
            elif k == "night_action" and e["action"] == "investigate":
                t = e["target"]
                C["checks"] += 1
                C["checks_repeat"] += t in checked
                C["checks_mafia"] += t in mafia
                checked.add(t)
            elif k == "night_action" and e["action"] == "protect" and det:
                C["protects"] += 1
                C["protects_det_after_claim"] += claimed_det and e["target"] == det
                C["protects_after_claim"] += claimed_det
            elif k == "game_over" and dawn:
                C["det_days_named"] += bool(set(public_accused) & dawn)
            elif k == "investigation_result":
                found[e["target"]] = e["result"]
            elif k == "player_died":
                alive.discard(e["player"])
                if e["player"] == det and e["cause"] == "night" and dawn:
                    C["det_days_knowing"] -= 1; dawn = set()  # killed in the night before
                if e["player"] == det:
                    C["det_died_day%d_%s" % (min(e["day"], 3), e["cause"])] += 1
            elif k == "message" and e["channel"] == "public" and e["phase"] == "day":
                s = e["sender"]
                if s in mafia: continue
                C["town_msgs"] += 1
                fs = detect_findings(e["text"], s, seats)
                cl = detect_claims(e["text"], s, seats)
                if s == det:
                    if fs: claimed_det = True
                    for f in fs:
                        C["det_findings"] += 1
                        true = found.get(f.subject) == ("mafia" if f.kind == "accuse" else "town")
                        C["det_findings_true"] += true
                        if f.kind == "accuse" and true:
                            public_accused[f.subject] = e["seq"]; named_today.add(f.subject)
                    if any(c.kind == "role" and c.value == "detective" for c in cl): claimed_det = True
                else:
                    C["other_town_findings"] += bool(fs)
                    C["other_town_det_claims"] += any(c.kind == "role" and c.value == "detective" for c in cl)
                    C["other_town_accuse"] += any(c.kind == "accuse" for c in cl)
            elif k == "vote_cast":
                v, t = e["voter"], e["target"]
                if v in mafia or t is None: continue
                key = "d1" if e["day"] == 1 else "later"
                C["votes_" + key] += 1; C["votes_mafia_" + key] += t in mafia
                living_mafia_named = [m for m in public_accused if m in alive]
                if v != det and living_mafia_named:
                    C["follow_opps"] += 1; C["follow_hits"] += t in living_mafia_named
                if v == det:
                    knows = [m for m in found if found[m] == "mafia" and m in alive]
                    if knows:
                        C["det_vote_opps"] += 1; C["det_vote_hits"] += t in knows
    return C

def pct(a, b): return f"{100*a/b:.1f}% of {b}" if b else "-"

for folder in sys.argv[1:]:
    C = analyse(folder)
    print(f"== {folder}: {C['town_wins']}/{C['games']} town wins")
    print(f"  town votes on mafia: day1 {pct(C['votes_mafia_d1'], C['votes_d1'])}, later {pct(C['votes_mafia_later'], C['votes_later'])}")
    print(f"  det checks: mafia {pct(C['checks_mafia'], C['checks'])}, repeats {pct(C['checks_repeat'], C['checks'])}")
    print(f"  det days knowing a living mafia: {C['det_days_knowing']}, named it that day: {pct(C['det_days_named'], C['det_days_knowing'])}")
    print(f"  det public findings true: {pct(C['det_findings_true'], C['det_findings'])}")
    print(f"  det votes a found mafia: {pct(C['det_vote_hits'], C['det_vote_opps'])}")
    print(f"  other town follow a true public accusation: {pct(C['follow_hits'], C['follow_opps'])}")
    print(f"  non-det town msgs with a finding: {pct(C['other_town_findings'], C['town_msgs'])}; claiming detective: {pct(C['other_town_det_claims'], C['town_msgs'])}; accusing: {pct(C['other_town_accuse'], C['town_msgs'])}")
    print(f"  doctor protects det after its claim: {pct(C['protects_det_after_claim'], C['protects_after_claim'])}")
    print("  det died:", {k: v for k, v in sorted(C.items()) if k.startswith('det_died')})
