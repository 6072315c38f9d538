#!/usr/bin/env python3
"""Where a training step's time goes, from the Chrome traces `fersweep models --trace DIR` writes
(issue 24): each operator's own time (its duration less that of the operators it called),
summed by phase of the step (forward, backward, optimizer) and by kind of operator, in
milliseconds per step and as a share of the step.

    build/cli/fersweep models --arch resnet18 --stem imagenet --threads 1 --repeats 5 --trace DIR
    python3 bench/op_breakdown.py DIR/*.json [--top 8] [--json]
"""
import argparse
import collections
import json
import os

PHASES = ("step::zero_grad", "step::forward", "step::backward", "step::optimizer")
# The first kind whose words a name contains; the order matters ("mkldnn_convolution_backward"
# is a convolution, "native_batch_norm_backward" a batch norm).
KINDS = (
    ("convolution", ("convolution",)),
    ("batch norm", ("batch_norm",)),
    ("dense", ("addmm", "aten::mm", "linear", "matmul")),
    ("pooling", ("pool",)),
    ("activation", ("relu", "threshold", "hardtanh", "silu", "sigmoid", "clamp")),
    ("loss", ("log_softmax", "nll_loss", "cross_entropy")),
    ("elementwise", ("aten::add", "aten::mul", "aten::div", "aten::sqrt", "aten::addc",
                     "aten::sub", "aten::lerp", "aten::pow", "aten::sum", "aten::mean")),
    ("memory", ("copy_", "clone", "contiguous", "empty", "zero_", "fill_", "aten::to",
                "_to_copy", "cat", "resize_")),
)


def kind_of(name):
    for kind, words in KINDS:
        if any(word in name for word in words):
            return kind
    return "other"


def load(path):
    with open(path) as f:
        events = json.load(f)
    if isinstance(events, dict):
        events = events.get("traceEvents", [])
    return [e for e in events if e.get("ph") == "X"]


def own_times(events):
    """(name, phase, own microseconds) of every operator, nesting resolved per thread."""
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[e.get("tid")].append(e)
    out = []
    for thread_events in by_thread.values():
        thread_events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [event, time of its children]
        def close(until):
            while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= until:
                event, children = stack.pop()
                phase = next((s[0]["name"] for s in reversed(stack)
                              if s[0]["name"] in PHASES), None)
                if event["name"] not in PHASES:
                    out.append((event["name"], phase, event["dur"] - children))
                if stack:
                    stack[-1][1] += event["dur"]
        for e in thread_events:
            close(e["ts"])
            stack.append([e, 0.0])
        close(float("inf"))
    return out


def breakdown(path, top):
    events = load(path)
    steps = sum(1 for e in events if e["name"] == "step::forward") or 1
    step_us = sum(e["dur"] for e in events if e["name"] in PHASES) / steps
    by_phase_kind = collections.Counter()
    by_name = collections.Counter()
    for name, phase, us in own_times(events):
        phase = (phase or "outside").removeprefix("step::")
        by_phase_kind[(phase, kind_of(name))] += us / steps
        by_name[(phase, name)] += us / steps
    return {
        "trace": os.path.basename(path), "steps": steps, "step_ms": step_us / 1e3,
        "by_phase_and_kind": [{"phase": p, "kind": k, "ms": us / 1e3, "share": us / step_us}
                              for (p, k), us in by_phase_kind.most_common()],
        "top_operators": [{"phase": p, "operator": n, "ms": us / 1e3, "share": us / step_us}
                          for (p, n), us in by_name.most_common(top)],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("traces", nargs="+")
    parser.add_argument("--top", type=int, default=8, help="operators listed by own time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [breakdown(path, args.top) for path in args.traces]
    if args.json:
        print(json.dumps(results, indent=1))
        return
    for r in results:
        print(f"\n{r['trace']}: {r['step_ms']:.1f} ms per traced step ({r['steps']} steps)")
        print("| phase | kind | ms per step | share |\n|---|---|---|---|")
        for row in r["by_phase_and_kind"]:
            if row["share"] >= 0.005:
                print(f"| {row['phase']} | {row['kind']} | {row['ms']:.1f} | "
                      f"{100 * row['share']:.1f} % |")
        print("| phase | operator | ms per step | share |\n|---|---|---|---|")
        for row in r["top_operators"]:
            print(f"| {row['phase']} | {row['operator']} | {row['ms']:.1f} | "
                  f"{100 * row['share']:.1f} % |")


if __name__ == "__main__":
    main()
