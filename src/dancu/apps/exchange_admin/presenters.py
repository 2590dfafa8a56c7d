"""Presentation helpers: the traffic chart as inline SVG (no script, no external library)."""

from __future__ import annotations

from dataclasses import dataclass

from dancu.blocks.exchange.services import Traffic

BAR_HEIGHT = 22
GAP = 10
LABEL_WIDTH = 360
CHART_WIDTH = 420


@dataclass(frozen=True)
class Bar:
    """One service's bar; coordinates are text, so that a Vietnamese page never writes them
    with a decimal comma (SVG needs a point)."""

    y: int
    label: str
    ok_width: str
    error_x: str
    error_width: str
    total: int
    error_rate_percent: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    bars: list[Bar]


def traffic_chart(traffic: list[Traffic]) -> Chart:
    """Horizontal bars per service: answered calls (green) then refused ones (red), scaled to the
    busiest service."""
    peak = max((t.total for t in traffic), default=0) or 1
    bars = []
    for i, t in enumerate(traffic):
        errors = t.provider_error + t.refused
        ok_width = CHART_WIDTH * t.ok / peak
        bars.append(
            Bar(
                y=i * (BAR_HEIGHT + GAP),
                label=t.service_id,
                ok_width=f"{ok_width:.1f}",
                error_x=f"{LABEL_WIDTH + ok_width:.1f}",
                error_width=f"{CHART_WIDTH * errors / peak:.1f}",
                total=t.total,
                error_rate_percent=round(100 * t.error_rate),
            )
        )
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP)
    return Chart(width=LABEL_WIDTH + CHART_WIDTH + 120, height=height, label_width=LABEL_WIDTH, bars=bars)
