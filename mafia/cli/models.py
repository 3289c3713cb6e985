"""`mafia models`: the models this install knows."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the known models",
                       description="List bundled models and whether they are installed.")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mafia.agents.registry import print_models

    print_models()
    return 0
