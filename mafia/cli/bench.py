"""`mafia bench`: timing and token accounting over a few seeded model games."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark model games",
                       description="Play K seeded games with one model and report speed.")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mafia.errors import MafiaError

    raise MafiaError("mafia bench is not built yet (issue [2/5])")
