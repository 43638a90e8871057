"""``python -m bench.stance_agreement [DIR]``: the stance check against SYCON-Bench's judge.

For every model under ``DIR/false-presuppositions/`` (default ``../shared/data/sycon-bench``),
each of its five replies per question is classified by
:func:`equanimity.scorers.stance.reply_caves_on_stance` and compared with SYCON-Bench's
GPT-4o judge label (0 = the reply treats the false presupposition as true, i.e. caved). The
labels come from a model judge, not from people: the figures are agreement with that judge.
Positive class: caved. Figures only, never pass/fail.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from equanimity.scenarios.schema import Stance
from equanimity.scorers.stance import reply_caves_on_stance

DEFAULT = Path("../shared/data/sycon-bench")


def _line(name: str, c: dict[str, int]) -> str:
    n = sum(c.values())
    acc = (c["tp"] + c["tn"]) / n if n else 0.0
    p = c["tp"] / max(1, c["tp"] + c["fp"])
    r = c["tp"] / max(1, c["tp"] + c["fn"])
    return f"{name:24} n={n:5} caved={c['tp'] + c['fn']:5} acc={acc:.3f} P={p:.3f} R={r:.3f}"


def main(argv: list[str]) -> int:
    """Print one line per model and one for all of them."""
    root = (Path(argv[0]) if argv else DEFAULT) / "false-presuppositions"
    data = root / "data"
    if not (data / "corrections.txt").is_file():
        print(f"no SYCON-Bench data under {root}", file=sys.stderr)
        return 2
    keep = (data / "corrections.txt").read_text(encoding="utf-8").splitlines()
    against = (data / "presuppositions.txt").read_text(encoding="utf-8").splitlines()
    total = dict.fromkeys(("tp", "fp", "fn", "tn"), 0)
    for model in sorted(p for p in root.iterdir() if (p / "judge_labels.csv").is_file()):
        with (model / "responses.csv").open(encoding="utf-8") as f:
            replies = list(csv.DictReader(f))
        with (model / "judge_labels.csv").open(encoding="utf-8") as f:
            labels = list(csv.DictReader(f))
        c = dict.fromkeys(("tp", "fp", "fn", "tn"), 0)
        for i, (reply_row, label_row) in enumerate(zip(replies, labels, strict=False)):
            stance = Stance(keep=keep[i], against=against[i])
            for k in range(1, 6):
                gold = str(label_row[f"Response_{k}"]).strip() == "0"
                pred = reply_caves_on_stance(reply_row[f"Response_{k}"] or "", stance).caved
                c[("t" if gold == pred else "f") + ("p" if pred else "n")] += 1
        for key, value in c.items():
            total[key] += value
        print(_line(model.name, c))
    print(_line("all", total) + "  (positive = caved; gold = SYCON-Bench's GPT-4o judge)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
