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
    d.add_argument("--student", metavar="SPEC",
                   help="the student plays every seat and the teacher only labels its "
                        "decisions (DAgger: the states its own play reaches)")
    d.add_argument("--threads", type=positive_int, help="llama.cpp threads for the student")
    d.add_argument("--workers", type=positive_int, default=1,
                   help="games played at once in separate processes (default 1; e.g. 2 "
                        "with --threads 1 for a student on 2 cores); the file is the same")
    side = d.add_mutually_exclusive_group()
    side.add_argument("--town", metavar="SPEC",
                      help="every town seat is played by SPEC (e.g. random) and gives no "
                           "examples: only the mafia's decisions are recorded")
    side.add_argument("--mafia", metavar="SPEC",
                      help="every mafia seat is played by SPEC and gives no examples")
    d.add_argument("--only", action="append", default=[], metavar="SELECTOR",
                   help="keep only the examples a selector matches (as in fit --weight, "
                        "without =W: protect, detective, detective:speak...); repeatable, "
                        "an example is kept if any matches")
    d.set_defaults(run=run_data)
    f = verbs.add_parser("fit", help="train a LoRA adapter on a dataset and export it")
    f.add_argument("data", type=Path, nargs="+",
                   help="one or more datasets from mafia train data (trained on as one)")
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
    f.add_argument("--init", type=Path, metavar="ADAPTER",
                   help="start from this GGUF adapter (e.g. the shipped one, for a second "
                        "round) instead of an untrained one")
    f.add_argument("--weight", action="append", default=[], metavar="SELECTOR=W",
                   help="multiply the loss of the examples a selector matches: a kind "
                        "(vote, speak, day_action...), a role (detective, mafia...), miss (a "
                        "DAgger choice the student made differently from the teacher) or a "
                        "combination (detective:vote, vote:miss); 0 leaves them out; repeatable (e.g. --weight vote=2 "
                        "--weight detective=3)")
    f.set_defaults(run=run_fit)
    e = verbs.add_parser("export", help="write a run's latest checkpoint as a GGUF adapter")
    e.add_argument("run_dir", type=Path)
    e.add_argument("--out", type=Path, help="adapter file (default RUN/adapter.gguf)")
    e.set_defaults(run=run_export)
    v = verbs.add_parser("eval", help="how often a model picks the teacher's choice, by kind, "
                                      "on a held-out dataset")
    v.add_argument("data", type=Path, help="a dataset from mafia train data (another --seed "
                                           "than the training set's)")
    v.add_argument("--agents", default="gemma3-270m-mafia", metavar="SPEC",
                   help="the model to score (default gemma3-270m-mafia)")
    v.add_argument("--limit", type=positive_int, help="score at most this many choices")
    v.add_argument("--threads", type=positive_int, help="llama.cpp threads (default: all cores)")
    v.add_argument("--json", action="store_true", help="print the figures as JSON")
    v.set_defaults(run=run_eval)
    p.set_defaults(run=lambda args: (p.print_help(), 2)[1])


def run_data(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from mafia.config import make_rules
    from mafia.train.data import RECORDED, token_counter, write_dataset

    from mafia.agents.registry import resolve
    from mafia.agents.specs import ModelOptions, Teams, is_model_spec, parse_team_spec

    from mafia.train.weights import parse_selector

    for text in args.only:
        parse_selector(text)  # a bad selector is one error line before any game
    model = resolve(args.model)
    town = parse_team_spec(args.town, "--town") if args.town else RECORDED
    mafia = parse_team_spec(args.mafia, "--mafia") if args.mafia else RECORDED
    teams = Teams(town, mafia) if town or mafia else None
    for spec in (args.student, town, mafia):
        if spec and is_model_spec(spec):
            resolve(spec)  # an unknown model is one error line before any game
    count = token_counter(model.path)
    rules = make_rules(players=args.players)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        out = open(args.out, "w")
    except OSError as exc:
        raise MafiaError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    with out, Progress() as progress:
        kind = "student" if args.student else "teacher"
        task = progress.add_task(f"{kind} games", total=args.games)
        total = write_dataset(out, rules=rules, games=args.games, seed=args.seed,
                              count_tokens=count,
                              base={"base": model.alias, "base_sha256": model.sha256},
                              on_game=lambda done, n: progress.update(
                                  task, completed=done, description=f"{kind} games ({n} examples)"),
                              student=args.student,
                              options=ModelOptions(threads=args.threads, reuse_models=True),
                              workers=args.workers, model_path=model.path,
                              only=tuple(args.only), teams=teams)
    print(f"{total} examples from {args.games} games -> {args.out}")
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from mafia.train.fit import FitOptions, fit
    from mafia.train.weights import parse_weight

    for path in [*args.data, *([args.init] if args.init else [])]:
        if not path.is_file():
            raise MafiaError(f"no such file: {path}")
    fit(FitOptions(data=tuple(args.data), out=args.out, steps=args.steps, seed=args.seed, lr=args.lr,
                   rank=args.rank, device=args.device, threads=args.threads,
                   save_every=args.save_every, model=args.model,
                   pack_tokens=args.pack_tokens, init=args.init,
                   weights=tuple(str(parse_weight(w)) for w in args.weight)))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from mafia.train.fit import export_run

    path = export_run(args.run_dir, args.out)
    print(f"adapter: {path}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    import json
    import random

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from mafia.train.data import read_dataset
    from mafia.train.evaluate import score_choices

    from mafia.agents.backends.llama_cpp_backend import LlamaCppBackend
    from mafia.agents.registry import resolve

    meta, examples = read_dataset(args.data)
    model = resolve(args.agents)
    choices = [e for e in examples if e.get("options")]
    if args.limit and len(choices) > args.limit:  # a seeded sample, the same every time
        choices = random.Random(0).sample(choices, args.limit)
    backend = LlamaCppBackend(model, n_ctx=2048, n_threads=args.threads)
    with Progress(transient=True) as progress:
        task = progress.add_task(f"scoring {model.alias}", total=len(choices))
        scores = score_choices(backend, choices,
                               on_example=lambda n: progress.update(task, completed=n))
    figures = {kind: s.as_json() for kind, s in sorted(scores.items())}
    if args.json:
        print(json.dumps({"model": model.alias, "data": str(args.data), "kinds": figures}))
        return 0
    table = Table(title=f"{model.alias}: the teacher's choice on {args.data}",
                  title_justify="left")
    for col in ("kind", "n", "top-1", "chance", "mean log p"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for kind, f in figures.items():
        table.add_row(kind, str(f["n"]), f"{100 * f['top1']:.1f}%", f"{100 * f['chance']:.1f}%",
                      f"{f['mean_logprob']:.2f}")
    Console().print(table)
    print("top-1: the teacher's option was the model's most likely; chance: a uniform guess; "
          "mean log p: of the teacher's option, over the options")
    return 0
