"""Inline SVG charts rendered on the server (no JavaScript): bars for counts, a line for percents.
Labels are escaped; a suppressed value (None) is drawn as an empty, outlined bar marked "<5"."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 44
PAD_BOTTOM = 46
PAD_TOP = 14


def _frame(title: str, body: list[str], testid: str) -> SafeString:
    return mark_safe(  # noqa: S308 (every text below is escaped)
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-label="{escape(title)}" data-testid="{escape(testid)}" class="chart">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _axis(top: float) -> list[str]:
    base = HEIGHT - PAD_BOTTOM
    return [
        f'<line x1="{PAD_LEFT}" y1="{base}" x2="{WIDTH - 4}" y2="{base}" stroke="#555"/>',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{base}" stroke="#555"/>',
        f'<text x="{PAD_LEFT - 4}" y="{PAD_TOP + 4}" font-size="10" text-anchor="end">'
        f"{escape(_num(top))}</text>",
        f'<text x="{PAD_LEFT - 4}" y="{base}" font-size="10" text-anchor="end">0</text>',
    ]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _label_every(n: int) -> int:
    return max(1, n // 12 + (1 if n % 12 else 0))


def bars(
    title: str, labels: Sequence[str], values: Sequence[int | None], *, testid: str = "chart"
) -> SafeString:
    """A bar chart of counts; None (suppressed) is an outlined empty bar marked "<5"."""
    top = max([v for v in values if v] or [1])
    plot_w = WIDTH - PAD_LEFT - 8
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    n = max(1, len(values))
    step = plot_w / n
    every = _label_every(n)
    body = _axis(top)
    for i, (label, v) in enumerate(zip(labels, values, strict=False)):
        x = PAD_LEFT + 4 + i * step
        w = max(1.0, step * 0.7)
        base = HEIGHT - PAD_BOTTOM
        if v is None:
            h = plot_h * 0.1
            body.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" '
                f'stroke="#888" stroke-dasharray="3 2"><title>{escape(label)}: &lt;5</title></rect>'
            )
        else:
            h = plot_h * v / top
            body.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="#1f6f8b">'
                f"<title>{escape(label)}: {v}</title></rect>"
            )
        if i % every == 0:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="{base + 14}" font-size="10" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return _frame(title, body, testid)


def line(
    title: str, labels: Sequence[str], values: Sequence[float | None], *, testid: str = "line"
) -> SafeString:
    """A line of percents (0–100, or the maximum if higher); None breaks the line."""
    top = max([100.0, *[v for v in values if v is not None]])
    plot_w = WIDTH - PAD_LEFT - 8
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    n = max(1, len(values))
    step = plot_w / n
    every = _label_every(n)
    base = HEIGHT - PAD_BOTTOM
    body = _axis(top)
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (label, v) in enumerate(zip(labels, values, strict=False)):
        x = PAD_LEFT + 4 + i * step + step * 0.35
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
        else:
            y = base - plot_h * v / top
            segment.append(f"{x:.1f},{y:.1f}")
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#b5542c">'
                f"<title>{escape(label)}: {v}%</title></circle>"
            )
        if i % every == 0:
            body.append(
                f'<text x="{x:.1f}" y="{base + 14}" font-size="10" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    if segment:
        segments.append(segment)
    body += [
        f'<polyline points="{" ".join(s)}" fill="none" stroke="#b5542c" stroke-width="2"/>' for s in segments
    ]
    return _frame(title, body, testid)
