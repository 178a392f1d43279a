"""Argument types of the command line: every number finite and in range, every path non-empty.

argparse turns the ``ArgumentTypeError`` raised here into a one-line error naming the option,
with exit code 2, before any work starts.
"""

from __future__ import annotations

import argparse
import math


def _number(text: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def bounded(kind: type = float, low: float | None = None, high: float | None = None, *,
            low_open: bool = False, high_open: bool = False):
    """An argparse ``type`` accepting finite ``kind`` values within [low, high] (or open ends).

    Parameters
    ----------
    kind
        ``int`` or ``float``.
    low, high
        Bounds (None: unbounded on that side).
    low_open, high_open
        Exclude the bound itself.
    """
    def convert(text: str):
        value = _number(text, kind)
        if low is not None and (value < low or (low_open and value == low)):
            raise argparse.ArgumentTypeError(
                f"{text} must be {'>' if low_open else '>='} {low}")
        if high is not None and (value > high or (high_open and value == high)):
            raise argparse.ArgumentTypeError(
                f"{text} must be {'<' if high_open else '<='} {high}")
        return value

    convert.__name__ = f"{kind.__name__} in range"
    return convert


finite_float = bounded(float)
"""Any finite number."""
positive_int = bounded(int, 1)
"""An integer >= 1 (counts: members, epochs, workers, stars, rows)."""
non_negative_int = bounded(int, 0)
"""An integer >= 0 (seeds)."""
positive_float = bounded(float, 0.0, low_open=True)
"""A finite number > 0 (rates, time-outs)."""
non_negative_float = bounded(float, 0.0)
"""A finite number >= 0 (waiting times)."""
ra_deg = bounded(float)
"""A right ascension, degrees (any finite value; wrapped to [0, 360) by the region code)."""
dec_deg = bounded(float, -90.0, 90.0)
"""A declination, degrees, in [-90, 90]."""
cone_radius_deg = bounded(float, 0.0, 90.0, low_open=True)
"""A cone radius, degrees, in (0, 90]."""


def path_text(text: str) -> str:
    """A path that is not empty or blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    if "\0" in text:
        raise argparse.ArgumentTypeError("the path contains a NUL character")
    return text
