#!/usr/bin/env python3
"""Plots the sweep of `llm-compile --pareto DIR` (DIR/pareto.json).

  plot_pareto.py PARETO_JSON PREFIX     -> PREFIX.png and PREFIX.svg

Two panels against the perplexity delta (% over the f32 reference): energy
per decode token (measured where a meter was read, else predicted by the
cost model) and measured decode tokens/s. The points of each panel's
frontier are highlighted, joined and labelled; the others are grey.

Exits 3, printing nothing, when matplotlib cannot be imported, so that
llm-compile can try another interpreter and then say how to install it.
"""
import json
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker
except ImportError:
    sys.exit(3)


def place_labels(ax, labels):
    """Annotates (name, x, y, bold) points, each with a leader line; a
    label takes the first slot around its point that covers no other label
    or point."""
    ax.figure.canvas.draw()
    to_px = ax.transData.transform
    frame = ax.get_window_extent()
    scale = ax.figure.dpi / 72.0
    # Boxes in display pixels (x0, y0, x1, y1): markers first.
    placed = []
    for _, x, y, _ in labels:
        px, py = to_px((x, y))
        r = 5 * scale
        placed.append((px - r, py - r, px + r, py + r))
    offsets = [(8, 6), (8, -14), (-8, 6), (-8, -14), (8, 20), (8, -28),
               (-8, 20), (-8, -28), (30, 6), (30, -14), (8, 34), (8, -42),
               (-30, 6), (-30, -14), (8, 48), (8, -56)]
    for name, x, y, bold in sorted(labels, key=lambda l: (not l[3], l[2])):
        px, py = to_px((x, y))
        width = (6.0 if bold else 5.0) * len(name) * scale
        height = 9 * scale
        for dx, dy in offsets:
            x0 = px + dx * scale if dx > 0 else px + dx * scale - width
            y0 = py + dy * scale
            box = (x0, y0, x0 + width, y0 + height)
            inside = (frame.x0 <= box[0] and box[2] <= frame.x1 and
                      frame.y0 <= box[1] and box[3] <= frame.y1)
            if inside and not any(box[0] < b[2] and b[0] < box[2] and
                                  box[1] < b[3] and b[1] < box[3]
                                  for b in placed):
                break
        placed.append(box)
        ax.annotate(name, (x, y), textcoords="offset points",
                    xytext=(dx, dy), fontsize=8 if bold else 7,
                    fontweight="bold" if bold else "normal",
                    color="black" if bold else "0.45",
                    ha="left" if dx > 0 else "right", va="bottom",
                    arrowprops=dict(arrowstyle="-", color="0.55", lw=0.6,
                                    shrinkA=0, shrinkB=4))


def panel(ax, points, key, flag, ylabel, higher_is_better):
    front = sorted((p for p in points if p["frontier"][flag]),
                   key=lambda p: p["perplexity_delta_pct"])
    rest = [p for p in points if not p["frontier"][flag]]
    if rest:
        ax.scatter([p["perplexity_delta_pct"] for p in rest],
                   [key(p) for p in rest], s=30, color="0.65", zorder=2,
                   label="dominated")
    if front:
        xs = [p["perplexity_delta_pct"] for p in front]
        ys = [key(p) for p in front]
        ax.step(xs, ys, where="post", color="tab:red", linewidth=1.2,
                zorder=3)
        ax.scatter(xs, ys, s=55, color="tab:red", edgecolor="black",
                   zorder=4, label="Pareto frontier")
    values = [key(p) for p in points]
    if min(values) > 0 and max(values) / min(values) > 4:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ticker.ScalarFormatter())
        ax.yaxis.set_minor_formatter(ticker.ScalarFormatter())
    ax.margins(x=0.08, y=0.08)
    ax.set_xlabel("perplexity delta vs f32 (%)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(("higher" if higher_is_better else "lower") +
                 " and further left is better", fontsize=9)
    return [(p["name"], p["perplexity_delta_pct"], key(p), True) for p in front] + \
        [(p["name"], p["perplexity_delta_pct"], key(p), False) for p in rest]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    sweep = json.load(open(sys.argv[1]))
    points = sweep["points"]
    measured = any(p["energy_source"] == "measured" for p in points)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    left_labels = panel(left, points, lambda p: p["energy_joules_per_token"] * 1e3,
          "energy", "energy per decode token (mJ, %s)" %
          ("measured" if measured else "predicted, no meter"), False)
    right_labels = panel(right, points,
          lambda p: p["decode_tokens_per_second"]["measured"],
          "speed", "decode tokens/s (measured)", True)
    w = sweep.get("workload", {})
    fig.suptitle("%s on %s: %d configurations (%s-token prompt, %s decode "
                 "tokens; perplexity on %s tokens)" %
                 (sweep["model"]["name"], sweep["target"], len(points),
                  w.get("prompt_tokens", "?"), w.get("decode_tokens", "?"),
                  sweep["fidelity"]["tokens"]), fontsize=10)
    fig.tight_layout()
    for ax, labels in ((left, left_labels), (right, right_labels)):
        place_labels(ax, labels)
    for ext in ("png", "svg"):
        fig.savefig("%s.%s" % (sys.argv[2], ext), dpi=130)
    return 0


if __name__ == "__main__":
    sys.exit(main())
