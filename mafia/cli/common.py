"""Flags shared by several commands: rules, seats and model options."""

from __future__ import annotations

import argparse
from typing import Any

from mafia.config import Rules, load_rules_file, make_rules, parse_roles_arg
from mafia.discussion import PROTOCOLS

from mafia.agents.specs import ModelOptions


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a number >= {least}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def add_rules_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--players", type=positive_int, help="number of seats (default 7)")
    p.add_argument("--roles", metavar="ROLE=N,...",
                   help="role counts, e.g. mafia=2,doctor=1,detective=1 (villagers fill the rest)")
    p.add_argument("--rules", metavar="FILE", help="TOML file of rule options (see docs/rules.md)")
    p.add_argument("--discussion", choices=sorted(PROTOCOLS),
                   help="when players speak by day (default moments; see docs/rules.md)")


def add_team_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--town", metavar="SPEC",
                   help="player spec for every town seat (with --mafia; not with --agents)")
    p.add_argument("--mafia", metavar="SPEC",
                   help="player spec for every mafia seat (with --town; not with --agents)")


def rules_from_args(args: argparse.Namespace, **overrides: Any) -> Rules:
    """Rules file first, then --players/--roles on top, then `overrides`."""
    values: dict[str, Any] = load_rules_file(args.rules) if args.rules else {}
    if args.players is not None:
        values["players"] = args.players
    if args.roles:
        values["roles"] = {**values.get("roles", {}), **parse_roles_arg(args.roles)}
    if getattr(args, "discussion", None):
        values["discussion"] = args.discussion
    values.update(overrides)
    return make_rules(**values)


def add_model_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model options (for model players)")
    g.add_argument("--threads", type=positive_int, help="llama.cpp threads (default: all cores)")
    g.add_argument("--ctx", type=positive_int, default=2048,
                   help="context tokens per seat (default 2048; older days are summarised to fit)")
    g.add_argument("--gpu-layers", type=non_negative_int, default=0,
                   help="layers to offload to a GPU (Metal/CUDA builds; default 0)")
    g.add_argument("--endpoint", metavar="URL",
                   help="OpenAI-compatible server for every model seat, e.g. "
                        "http://127.0.0.1:8080/v1 (one spec's own: --agents MODEL@URL)")
    g.add_argument("--prompt-style", choices=("auto", "chat", "completion"), default="auto",
                   help="chat template or plain completion prompts (default: from the GGUF)")
    g.add_argument("--profile", choices=("auto", "plain", "assisted"), default="auto",
                   help="what a model seat's prompt holds: plain (only what the seat knows), "
                        "assisted (plus inferred suspects, suggested lines and calibration); "
                        "auto (default): plain for a model with a trained adapter, else assisted")
    g.add_argument("--max-tokens", type=positive_int, default=40,
                   help="token limit per spoken message (default 40)")
    g.add_argument("--backend", choices=("batched", "simple"), default="batched",
                   help="batched: a model's seats share one llama.cpp context and the calls "
                        "of one moment run together (default); simple: one context per seat, "
                        "one call at a time (the reference)")
    g.add_argument("--log-prompts", action="store_true",
                   help="store each prompt in the transcript (visible only to its seat)")
    g = p.add_argument_group("program options (for cmd: seats)")
    g.add_argument("--program-timeout", type=positive_float, default=10.0, metavar="SECONDS",
                   help="longest a cmd: bot may take per decision (default 10); then the "
                        "engine falls back")
    g.add_argument("--program-log", metavar="FILE",
                   help="append cmd: bots' stderr to FILE (default: discarded)")


def model_options(args: argparse.Namespace) -> ModelOptions:
    return ModelOptions(threads=args.threads, ctx=args.ctx, gpu_layers=args.gpu_layers,
                        endpoint=args.endpoint, prompt_style=args.prompt_style,
                        profile=args.profile, log_prompts=args.log_prompts, max_tokens=args.max_tokens,
                        backend=args.backend, program_timeout=args.program_timeout,
                        program_log=args.program_log)
