"""`harborline user ...` and `harborline oncall ...` commands."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("user", help="staff accounts")
    sub.add_parser("oncall", help="on-call shifts")
