"""Dev-only check of a hybrid refusal layer: the rule verdict plus a MiniLM logistic head.

    PYTHONPATH=src python scripts/explore_refusal_head.py [--data ../shared/data]

Loads only the DEV splits of xstest-gpt4, xstest-mistralinstruct and pyrit-refusal. For each
source in turn, a class-balanced logistic regression is trained on the other two sources'
dev replies and applied to the held-out source's dev replies (the transfer the issue asks
about: a layer not fitted on that model's replies). Printed per feature set, C and threshold:
F1 of the rules, of the pure head, of the hybrid (head decides where the rule verdict is not
confident), and of a one-directional hybrid (the head may only turn an unconfident "complied"
into a refusal). Nothing is written: the results are in scorers/validation/MEASUREMENTS.md
(2026-12-02), where the head was not adopted.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from equanimity.textclass.embeddings import embed_many
from equanimity.textclass.refusal import classify_refusal
from equanimity.validation.refusal_sets import load_pyrit, load_xstest

SOURCES = ("xstest-mistralinstruct", "xstest-gpt4", "pyrit-refusal")
CS = (0.3, 1.0, 3.0, 10.0)
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95)


def main() -> None:
    """Print the held-out-source F1 of the rules, the head and the hybrids (dev only)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args()
    items = [it for it in load_xstest(args.data) + load_pyrit(args.data) if it.split == "dev"]
    reply = embed_many([it.reply for it in items])
    user = embed_many([it.user or "" for it in items])
    y = np.array([it.gold for it in items])
    verdicts = [classify_refusal(it.reply, user=it.user) for it in items]
    rule = np.array([v.label != "complied" for v in verdicts])
    unsure = np.array([not v.confident for v in verdicts])
    unsure_complied = np.array([v.label == "complied" and not v.confident for v in verdicts])
    src = np.array([it.dataset for it in items])
    feature_sets = {
        "reply": reply,
        "reply+reply*user": np.hstack([reply, reply * user]),
        "reply+cos": np.hstack([reply, (reply * user).sum(1, keepdims=True)]),
    }
    for name, x in feature_sets.items():
        for c in CS:
            for held in SOURCES:
                tr, te = src != held, src == held
                head = LogisticRegression(
                    C=c, class_weight="balanced", max_iter=2000, random_state=0
                )
                p = head.fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
                cells = []
                for t in THRESHOLDS:
                    pure = p >= t
                    hybrid = np.where(unsure[te], pure, rule[te])
                    one_way = rule[te] | (unsure_complied[te] & pure)
                    cells.append(
                        f"t{t}: pure {f1_score(y[te], pure):.3f} hybrid "
                        f"{f1_score(y[te], hybrid):.3f} one-way {f1_score(y[te], one_way):.3f}"
                    )
                print(f"{name} C={c} held out {held}: rule {f1_score(y[te], rule[te]):.3f}")
                for cell in cells:
                    print("   ", cell)


if __name__ == "__main__":
    main()
