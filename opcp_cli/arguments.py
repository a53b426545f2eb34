"""Argument types of the command line that check ranges, so a bad value is refused by the
parser with a message naming the range (`--min-score 101` is not a score)."""

from __future__ import annotations

import argparse


def bounded_float(low: float, high: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {low:g} to {high:g}")
        return value

    parse.__name__ = "number"
    return parse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is out of range: must be 1 or more")
    return value
