#!/usr/bin/env python3
"""Writes tests/data/sklearn_reports.json: random confusion matrices, some with classes absent
from the truth, from the predictions or from both, each scored by scikit-learn's
classification_report (its default labels: those present in the truth or the predictions;
zero_division=0). metrics_test.cc checks fersweep's report against every one. Rerun with
    python3 tests/data/sklearn_reports.py        (Debian: python3-sklearn)
"""
import json
import os

import numpy as np
from sklearn import __version__ as sklearn_version
from sklearn.metrics import classification_report

rng = np.random.default_rng(20261202)
cases = []
for case in range(60):
    k = int(rng.integers(2, 9))
    counts = rng.integers(0, 12, size=(k, k)) * (rng.random((k, k)) < 0.7)
    counts += np.diag(rng.integers(0, 20, size=k))
    # Some classes absent from the truth (a zero row), the predictions (a zero column) or both.
    for c in range(k):
        draw = rng.random()
        if draw < 0.12:
            counts[c, :] = 0
        elif draw < 0.24:
            counts[:, c] = 0
        elif draw < 0.36:
            counts[c, :] = 0
            counts[:, c] = 0
    if counts.sum() == 0:
        counts[0, 0] = 1
    y_true, y_pred = [], []
    for a in range(k):
        for p in range(k):
            y_true += [a] * int(counts[a, p])
            y_pred += [p] * int(counts[a, p])
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    per_class = {int(name): report[name] for name in report if name.isdigit()}
    cases.append({
        "classes": k,
        "counts": counts.flatten().tolist(),
        "per_class": {str(c): per_class[c] for c in sorted(per_class)},
        "accuracy": report["accuracy"],
        "macro avg": report["macro avg"],
        "weighted avg": report["weighted avg"],
    })

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn_reports.json")
with open(out, "w") as f:
    json.dump({"sklearn": sklearn_version, "cases": cases}, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {out}")
