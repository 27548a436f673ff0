"""The card's figures as hand-written SVG: no plotting dependency, and the same counts always give the same bytes
(no timestamps, ids or float noise), so two builds publish identical plots.

- `bar_chart`: one labelled horizontal bar per key (tasks, departments, k-anonymity class sizes);
- `histogram`: vertical bars over fixed bins, one colour per series (user text and answer lengths).
"""

from __future__ import annotations

import bisect
import html
from collections.abc import Sequence

COLOURS = ("#4878a8", "#e0904a", "#6aa56a", "#b0605a")
LENGTH_BINS = (0, 50, 100, 200, 400, 800, 1600, 3200, 6400)


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
            f'<text x="{width // 2}" y="24" text-anchor="middle" font-size="16">{html.escape(title)}</text>']
    return "\n".join(head + body + ["</svg>"]) + "\n"


def bar_chart(counts: dict[str, int], title: str, width: int = 760, left: int = 190) -> str:
    """Horizontal bars, in the order given, each labelled with its count."""
    bar_h, gap, top = 22, 6, 40
    height = top + max(len(counts), 1) * (bar_h + gap) + 20
    peak = max(counts.values(), default=1) or 1
    span = width - left - 90
    body = []
    for i, (label, n) in enumerate(counts.items()):
        y = top + i * (bar_h + gap)
        w = max(1, round(span * n / peak)) if n else 0
        body.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{html.escape(str(label))}</text>')
        body.append(f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h}" fill="{COLOURS[0]}"/>')
        body.append(f'<text x="{left + w + 6}" y="{y + 16}">{n:,}</text>')
    return _svg(width, height, body, title)


def bin_counts(values: Sequence[int], edges: Sequence[int] = LENGTH_BINS) -> list[int]:
    """How many values fall in each bin [edge_i, edge_i+1); the last bin is open-ended."""
    counts = [0] * len(edges)
    for v in values:
        counts[max(0, bisect.bisect_right(edges, v) - 1)] += 1
    return counts


def bin_labels(edges: Sequence[int] = LENGTH_BINS) -> list[str]:
    return [f"{lo}-{hi - 1}" for lo, hi in zip(edges, edges[1:], strict=False)] + [f"{edges[-1]}+"]


def histogram(series: dict[str, Sequence[int]], title: str, xlabel: str, edges: Sequence[int] = LENGTH_BINS,
              width: int = 760, height: int = 320) -> str:
    """Grouped vertical bars: for each bin, one bar per series (as a share of that series' values, in %)."""
    left, right, top, bottom = 60, 20, 60, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    shares = {}
    for name, values in series.items():
        counts = bin_counts(values, edges)
        total = sum(counts) or 1
        shares[name] = [100.0 * c / total for c in counts]
    peak = max((max(s) for s in shares.values()), default=1.0) or 1.0
    group_w = plot_w / len(edges)
    bar_w = max(2, int(group_w * 0.8 / max(len(series), 1)))
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
            f'<text x="{left + plot_w // 2}" y="{height - 12}" text-anchor="middle">{html.escape(xlabel)}</text>',
            f'<text x="16" y="{top + plot_h // 2}" transform="rotate(-90 16 {top + plot_h // 2})" '
            'text-anchor="middle">% of rows</text>']
    for j, (name, values) in enumerate(shares.items()):
        colour = COLOURS[j % len(COLOURS)]
        body.append(f'<rect x="{left + 10 + j * 150}" y="36" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{left + 28 + j * 150}" y="47">{html.escape(name)}</text>')
        for i, share in enumerate(values):
            h = round(plot_h * share / peak)
            x = round(left + i * group_w + group_w * 0.1 + j * bar_w)
            body.append(f'<rect x="{x}" y="{top + plot_h - h}" width="{bar_w}" height="{h}" fill="{colour}"/>')
    for i, label in enumerate(bin_labels(edges)):
        x = round(left + i * group_w + group_w / 2)
        body.append(f'<text x="{x}" y="{top + plot_h + 18}" text-anchor="middle" font-size="11">{label}</text>')
    return _svg(width, height, body, title)
