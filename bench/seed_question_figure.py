#!/usr/bin/env python3
"""The figure of docs/MODELS.md, "The seed's question as a sweep": macro-F1 against parameters.

    mpirun -n 3 build/cli/fersweep run bench/seed_models.json --db seedq.db
    mpirun -n 3 build/cli/fersweep run search_spaces/examples/fer_accuracy_vs_size.json --db seedq.db
    python3 bench/seed_question_figure.py seedq.db docs/figures/accuracy_vs_size.svg

Grey: the sweep's finished trials; blue: its Pareto front (most macro-F1 for the parameters);
red: the seed report's four networks trained alike (bench/seed_models.json), those the memory
bound refused drawn hollow on the axis with the memory they would need. Standard library only.
"""
import json
import math
import sqlite3
import sys


def trials(con, sweep_name):
    sweep = con.execute("SELECT id FROM sweeps WHERE name = ? ORDER BY id DESC LIMIT 1",
                        (sweep_name,)).fetchone()[0]
    out = []
    for trial_id, params, status in con.execute(
            "SELECT id, params_json, status FROM trials WHERE sweep_id = ? ORDER BY number",
            (sweep,)):
        metrics = dict(con.execute("SELECT name, value FROM trial_metrics WHERE trial_id = ?",
                                   (trial_id,)).fetchall())
        out.append({"id": trial_id, "params": json.loads(params), "status": status,
                    "metrics": metrics})
    return out


def front(points):
    """Points (params, f1) no other point beats on both, by parameters."""
    best, kept = -1.0, []
    for p in sorted(points, key=lambda p: (p[0], -p[1])):
        if p[1] > best:
            kept.append(p)
            best = p[1]
    return kept


def main():
    db, out_path = sys.argv[1], sys.argv[2]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    sweep = trials(con, "fer-accuracy-vs-size")
    seed = trials(con, "seed-models")
    finished = [(t["metrics"]["param_count"], t["metrics"]["val_macro_f1"]) for t in sweep
                if t["status"] == "finished"]
    pareto = front(finished)
    names = {"vgg_custom": "modified VGG", "vgg16": "VGG16", "resnet50": "ResNet50",
             "mobilenet_v2": "MobileNetV2"}
    width, height, left, right, top, bottom = 640, 400, 60, 20, 20, 90
    xs = [p for p, _ in finished] + [t["metrics"]["param_count"] for t in seed]
    lo, hi = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1

    def x(params):
        return left + (math.log10(params) - lo) / (hi - lo) * (width - left - right)

    def y(f1):
        return top + (1 - f1 / 0.8) * (height - top - bottom)

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    for f1 in (0, 0.2, 0.4, 0.6, 0.8):
        svg.append(f'<line x1="{left}" x2="{width - right}" y1="{y(f1):.1f}" y2="{y(f1):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 6}" y="{y(f1) + 4:.1f}" '
                   f'text-anchor="end">{f1:.1f}</text>')
    for power in range(math.floor(lo), math.floor(hi) + 1):
        for m in (1, 2, 5):
            v = m * 10 ** power
            if lo <= math.log10(v) <= hi:
                label = f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k"
                svg.append(f'<text x="{x(v):.1f}" y="{height - bottom + 16}" '
                           f'text-anchor="middle">{label}</text>')
    svg.append(f'<text x="{(left + width - right) / 2}" y="{height - bottom + 32}" '
               f'text-anchor="middle">trainable parameters (log)</text>')
    svg.append(f'<text x="14" y="{(top + height - bottom) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {(top + height - bottom) / 2})">validation macro-F1'
               f'</text>')
    for p, f1 in finished:
        svg.append(f'<circle cx="{x(p):.1f}" cy="{y(f1):.1f}" r="3.5" fill="#bbb"/>')
    path = " ".join(f"{x(p):.1f},{y(f1):.1f}" for p, f1 in pareto)
    svg.append(f'<polyline points="{path}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>')
    for p, f1 in pareto:
        svg.append(f'<circle cx="{x(p):.1f}" cy="{y(f1):.1f}" r="4.5" fill="#1f5fbf"/>')
    hollow = 0
    for t in sorted(seed, key=lambda t: t["metrics"]["param_count"]):
        name = names.get(t["params"]["arch"], t["params"]["arch"])
        m = t["metrics"]
        if t["status"] == "finished":
            px, py = x(m["param_count"]), y(m["val_macro_f1"])
            svg.append(f'<rect x="{px - 5:.1f}" y="{py - 5:.1f}" width="10" height="10" '
                       f'fill="#c0392b"/><text x="{px + 8:.1f}" y="{py + 4:.1f}" '
                       f'fill="#c0392b">{name}</text>')
        else:  # refused before training: drawn hollow on the axis, with what it would need
            px, py = x(m["param_count"]), y(0)
            label_y = py - 12 - 16 * hollow  # stacked: they lie close on a log axis
            hollow += 1
            svg.append(f'<rect x="{px - 5:.1f}" y="{py - 5:.1f}" width="10" height="10" '
                       f'fill="none" stroke="#c0392b" stroke-width="1.5"/>'
                       f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{py - 5:.1f}" '
                       f'y2="{label_y + 3:.1f}" stroke="#c0392b" stroke-dasharray="2,2"/>'
                       f'<text x="{px + 4:.1f}" y="{label_y:.1f}" text-anchor="end" '
                       f'fill="#c0392b">{name}: {m.get("train_memory_mb", float("nan")):.0f} '
                       f'MiB</text>')
    svg.append(f'<text x="{left}" y="{height - 30}" fill="#555">grey: finished trials of the '
               f'sweep; blue: its Pareto front; red: the seed report\'s networks, trained alike;'
               f'</text>')
    svg.append(f'<text x="{left}" y="{height - 14}" fill="#555">hollow: not trained, their '
               f'training step needs more than the 512 MiB bound</text>')
    svg.append("</svg>")
    with open(out_path, "w") as out:
        out.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
