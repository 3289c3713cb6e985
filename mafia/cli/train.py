"""`mafia train`: `data` writes a dataset from teacher games, `fit` trains a LoRA adapter on it
and exports it for llama.cpp, `export` turns a checkpoint into a GGUF adapter."""

from __future__ import annotations

import argparse
from pathlib import Path

from mafia.cli.common import non_negative_int, positive_int
from mafia.errors import MafiaError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="teach a model to play: dataset, LoRA training, export",
                       description="Fine-tune a LoRA adapter on a teacher's games.")
    verbs = p.add_subparsers(dest="verb", metavar="STEP", parser_class=type(p))
    d = verbs.add_parser("data", help="write a JSONL dataset from teacher (heuristic) games")
    d.add_argument("--games", type=positive_int, required=True)
    d.add_argument("--seed", type=non_negative_int, default=0)
    d.add_argument("--players", type=positive_int, default=7)
    d.add_argument("--model", default="gemma3-270m",
                   help="the base model whose tokenizer sizes the prompts (default gemma3-270m)")
    d.add_argument("--out", required=True, type=Path)
    d.set_defaults(run=run_data)
    f = verbs.add_parser("fit", help="train a LoRA adapter on a dataset and export it")
    f.add_argument("data", type=Path)
    f.add_argument("--out", required=True, type=Path, help="run folder (checkpoints, adapter)")
    f.add_argument("--steps", type=positive_int, default=1000,
                   help="optimizer steps, one packed sequence of examples each")
    f.add_argument("--seed", type=non_negative_int, default=0)
    f.add_argument("--lr", type=float, default=2e-4)
    f.add_argument("--rank", type=positive_int, default=16)
    f.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    f.add_argument("--threads", type=positive_int, help="torch threads (default: all cores)")
    f.add_argument("--save-every", type=positive_int, default=100, metavar="STEPS")
    f.add_argument("--model", default="gemma3-270m", help="base model (default gemma3-270m)")
    f.add_argument("--pack-tokens", type=positive_int, default=1024, metavar="TOKENS",
                   help="examples that share a prefix go in one sequence of up to this many "
                        "tokens (default 1024; 1 trains one example per step)")
    f.set_defaults(run=run_fit)
    e = verbs.add_parser("export", help="write a run's latest checkpoint as a GGUF adapter")
    e.add_argument("run_dir", type=Path)
    e.add_argument("--out", type=Path, help="adapter file (default RUN/adapter.gguf)")
    e.set_defaults(run=run_export)
    p.set_defaults(run=lambda args: (p.print_help(), 2)[1])


def run_data(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from mafia.config import make_rules
    from mafia.train.data import write_dataset

    from agents.registry import resolve

    model = resolve(args.model)
    count = _token_counter(model.path)
    rules = make_rules(players=args.players)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        out = open(args.out, "w")
    except OSError as exc:
        raise MafiaError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    with out, Progress() as progress:
        task = progress.add_task("teacher games", total=args.games)
        total = write_dataset(out, rules=rules, games=args.games, seed=args.seed,
                              count_tokens=count,
                              base={"base": model.alias, "base_sha256": model.sha256},
                              on_game=lambda done, n: progress.update(
                                  task, completed=done, description=f"teacher games ({n} examples)"))
    print(f"{total} examples from {args.games} games -> {args.out}")
    return 0


def _token_counter(path: Path):  # type: ignore[no-untyped-def]
    from agents.backends.llama_loading import load_llama

    llm = load_llama(model_path=str(path), vocab_only=True, verbose=False)
    return lambda text: len(llm.tokenize(text.encode(), add_bos=True, special=False))


def run_fit(args: argparse.Namespace) -> int:
    from mafia.train.fit import FitOptions, fit

    fit(FitOptions(data=args.data, out=args.out, steps=args.steps, seed=args.seed, lr=args.lr,
                   rank=args.rank, device=args.device, threads=args.threads,
                   save_every=args.save_every, model=args.model,
                   pack_tokens=args.pack_tokens))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from mafia.train.fit import export_run

    path = export_run(args.run_dir, args.out)
    print(f"adapter: {path}")
    return 0
