"""Geometry of the server-side SVG charts (pure: plain numbers in, shapes out).

Templates draw what these functions return, so pages need no chart library and no CDN.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 360
HEIGHT = 160
PAD = 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float


def bars(items: list[tuple[str, float]], *, width: int = WIDTH, height: int = HEIGHT) -> list[Bar]:
    """Vertical bars scaled to the largest value, left to right in the given order."""
    if not items:
        return []
    top = max(value for _label, value in items) or 1.0
    slot = (width - 2 * PAD) / len(items)
    usable = height - 2 * PAD
    result = []
    for i, (label, value) in enumerate(items):
        h = usable * value / top
        result.append(Bar(PAD + i * slot + slot * 0.1, height - PAD - h, slot * 0.8, h, label, value))
    return result


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    quadrant: str


QUADRANTS = {
    (True, False): "improve",  # important, not satisfied: where the proposition falls short
    (True, True): "keep",
    (False, False): "low",
    (False, True): "overkill",
}


def quadrant(points: list[dict], *, size: int = 300, low: float = 1.0, high: float = 5.0, mid: float = 3.0) -> dict:
    """Importance (y) vs satisfaction (x) on a 1-5 square split at ``mid``."""
    span = size - 2 * PAD

    def scale(value: float) -> float:
        return PAD + span * (value - low) / (high - low)

    placed = [
        Point(
            scale(p["satisfaction"]),
            size - scale(p["importance"]),
            str(p["label"]),
            QUADRANTS[(p["importance"] >= mid, p["satisfaction"] >= mid)],
        )
        for p in points
    ]
    return {
        "size": size,
        "pad": PAD,
        "mid": scale(mid),
        "mid_y": size - scale(mid),
        "points": placed,
        "end": size - PAD,
    }
