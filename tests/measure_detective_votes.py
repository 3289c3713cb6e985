"""Run by hand: `python tests/measure_detective_votes.py SPEC DATASET...` (a minute per
dataset, CPU-heavy). Of the vote examples where the seat is the detective and its private
record names a living mafia it found, how often that mafia is the model's most likely
option. The round 3 diagnosis (docs/training.md) compares teacher states (a held-out teacher dataset)
with the student's own (a `--student` dataset)."""
import asyncio
import re
import sys

from mafia.train.data import read_dataset

from mafia.agents.backends.llama_cpp_backend import LlamaCppBackend
from mafia.agents.registry import resolve


def found(prompt: str) -> list[str]:
    """Living players the detective learnt are mafia, from the plain prompt's private part."""
    private = prompt.split("knows:")[-1]
    alive = re.search(r"Alive: ([^.]*)\.", private).group(1).split(", ")  # type: ignore[union-attr]
    return [n for n in re.findall(r"Night \d+: (\w+) is mafia\.", private) if n in alive]


def main() -> None:
    backend = LlamaCppBackend(resolve(sys.argv[1]), n_ctx=2048)
    for path in sys.argv[2:]:
        examples = [e for e in read_dataset(path)[1] if e["kind"] == "vote"
                    and "secret role: detective" in e["prompt"] and found(e["prompt"])]
        hits = 0
        for e in examples:
            scores = asyncio.run(backend.choose(e["prompt"], e["options"], seed=0,
                                                temperature=1.0)).logprobs
            best = e["options"][max(range(len(scores)), key=scores.__getitem__)]
            hits += best.strip() in found(e["prompt"])
        print(f"{sys.argv[1]} on {path}: the found mafia is the most likely vote in "
              f"{hits} of {len(examples)}")


if __name__ == "__main__":
    main()
