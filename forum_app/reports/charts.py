"""Quarterly trends drawn on the server as SVG bars (no script, so the strict CSP holds)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 320, 140, 20


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float


def bars(points: list[tuple[str, float]], peak: float) -> list[Bar]:
    """Bar geometry for ``points`` scaled so ``peak`` fills the chart's height."""
    if not points:
        return []
    slot = (WIDTH - 2 * PAD) / len(points)
    result = []
    for i, (label, value) in enumerate(points):
        height = (HEIGHT - 2 * PAD) * (value / peak if peak else 0)
        result.append(
            Bar(
                label,
                value,
                round(PAD + i * slot + slot * 0.15, 1),
                round(HEIGHT - PAD - height, 1),
                round(slot * 0.7, 1),
                round(height, 1),
            )
        )
    return result
