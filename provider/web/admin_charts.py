"""Daily counts as bar charts drawn by the server: numbers for an SVG the template writes out.

No script and no chart library: each bar is a rectangle placed here, and the template names it
(its text stays in the template, ready for translation). The same numbers are in a table beside
the chart for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH = 280
HEIGHT = 120
GAP = 2
BASELINE = HEIGHT - 16  # room under the bars for the first and last date


@dataclass(frozen=True, slots=True)
class Bar:
    date: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    metric: str
    total: int
    peak: int
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = BASELINE


def bar_chart(metric: str, days: list[dict[str, Any]]) -> Chart:
    """One bar per day of `days` (oldest first) for `metric`, scaled to the highest day."""
    values = [int(day[metric]) for day in days]
    peak = max(values, default=0)
    slot = WIDTH / max(len(values), 1)
    bars = []
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        height = (BASELINE - 4) * value / peak if peak else 0.0
        bars.append(
            Bar(
                date=str(day["date"]),
                value=value,
                x=round(index * slot + GAP / 2, 2),
                y=round(BASELINE - height, 2),
                width=round(slot - GAP, 2),
                height=round(height, 2),
            )
        )
    return Chart(metric=metric, total=sum(values), peak=peak, bars=bars)
