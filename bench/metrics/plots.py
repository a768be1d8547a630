"""One PNG per metric group: native C, Waft and any peer side by side for each figure of the group's unit.

Bars are means; a distribution's min..max is the whisker.  Rows in another
unit than the group's (a count, functions/s beside seconds) are left out of
the plot; the table has them.  matplotlib is optional: without it the report
says the plots were skipped, and the tables are complete.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

SIDES = (("native", "native C", "#7f7f7f"), ("waft", "Waft", "#1f77b4"))
PEER_COLOURS = ("#ff7f0e", "#2ca02c", "#9467bd")


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_group(data: dict, name: str, path: Path) -> Path | None:
    """Draw group `name` of a metrics report (`data`, as in the JSON) to `path`; None when it has nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    group = data["groups"][name]
    rows = [r for r in group.get("rows", []) if r["unit"] == group.get("unit")
            and any(r.get(side) for side, _, _ in SIDES)]
    if not rows:
        return None
    peers = sorted({p for r in rows for p in (r.get("peers") or {})})
    series = [(key, label, colour) for key, label, colour in SIDES] + \
             [(f"peer:{p}", p, PEER_COLOURS[i % len(PEER_COLOURS)]) for i, p in enumerate(peers)]
    height = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.55 * len(rows) * max(1, len(series) / 2)))
    for s, (key, label, colour) in enumerate(series):
        ys, means, low, high = [], [], [], []
        for i, row in enumerate(rows):
            stat = row["peers"].get(key[5:]) if key.startswith("peer:") else row.get(key)
            if not stat:
                continue
            ys.append(i + (s - (len(series) - 1) / 2) * height)
            means.append(stat["mean"])
            low.append(max(0.0, stat["mean"] - stat.get("min", stat["mean"])))
            high.append(stat.get("max", stat["mean"]) - stat["mean"])
        if ys:
            ax.barh(ys, means, height=height, color=colour, label=label,
                    xerr=[low, high] if any(low) or any(high) else None, ecolor="#333333", capsize=2)
    values = [st["mean"] for r in rows for st in [r.get("native"), r.get("waft"), *(r.get("peers") or {}).values()]
              if st and st["mean"] > 0]
    log_scale = bool(values) and max(values) / min(values) > 50
    if log_scale:  # start-up mixes microseconds and milliseconds, footprint stacks and flash
        ax.set_xscale("log")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_short(r["label"]) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{group['unit']}{', log scale' if log_scale else ''} (mean; whiskers min..max)")
    ax.set_title("\n".join(textwrap.wrap(f"{data['target']} ({data.get('cpu', '')}): {group['title']}", 90)),
                 fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _short(label: str, width: int = 58) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"
