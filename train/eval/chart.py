"""The win / tie / lose figure as hand-written SVG, like the paper's stacked bars (one bar per test set and
dimension: A's wins, ties, B's wins, each labelled with its share).

Why by hand: matplotlib is not part of the training extra, and like cmedins/publish/plots.py the same numbers must
give the same bytes (no timestamps, fixed rounding).
"""

from __future__ import annotations

import html
from typing import Any

COLOURS = {"win": "#4878a8", "tie": "#b8b8b8", "lose": "#e0904a"}


def stacked_bars(rows: list[dict[str, Any]], label_a: str, label_b: str, title: str = "Pairwise comparison") -> str:
    """rows: the pairwise table (test_set, dimension, win/tie/lose Shares); returns an SVG document."""
    left, right, top, bar_h, gap, head, width = 200, 30, 64, 24, 8, 24, 900
    span = width - left - right
    n_sets = len(dict.fromkeys(row["test_set"] for row in rows))
    height = top + n_sets * head + len(rows) * (bar_h + gap) + 20
    esc = html.escape
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width // 2}" y="22" text-anchor="middle" font-size="16">{esc(title)}</text>',
    ]
    legend = [("win", f"A wins: {label_a}"), ("tie", "tie"), ("lose", f"B wins: {label_b}")]
    x = 20
    for key, text in legend:
        text = text if len(text) <= 48 else "…" + text[-47:]
        body.append(f'<rect x="{x}" y="36" width="12" height="12" fill="{COLOURS[key]}"/>')
        body.append(f'<text x="{x + 18}" y="47">{esc(text)}</text>')
        x += 18 + 7 * len(text) + 24
    y, current = top, None
    for row in rows:
        if row["test_set"] != current:
            current = row["test_set"]
            body.append(f'<text x="20" y="{y + 16}" font-weight="bold">{esc(current)}</text>')
            y += head
        label = f"{row['dimension']} (n={row['judged']})"
        body.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{esc(label)}</text>')
        x0 = 0.0
        for key in ("win", "tie", "lose"):
            share = row[key].value
            w = span * share
            if w > 0:
                body.append(f'<rect x="{left + x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                            f'fill="{COLOURS[key]}"/>')
                if w >= 34:
                    body.append(f'<text x="{left + x0 + w / 2:.1f}" y="{y + 16}" text-anchor="middle" '
                                f'fill="#ffffff">{100 * share:.0f}%</text>')
            x0 += w
        if row["judged"] == 0:
            body.append(f'<text x="{left + 6}" y="{y + 16}">no readable verdicts</text>')
        y += bar_h + gap
    body.append("</svg>")
    return "\n".join(body) + "\n"
