"""Batched transcript reading and row-dict flips give what the one-at-a-time versions gave."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval

from equanimity.analysis.frame import load_run
from equanimity.compare import transcripts
from equanimity.compare.flips import Flip, find_flips, sample_changes
from equanimity.compare.pairing import Pairing, pair_runs
from equanimity.tasks import build_task

CATEGORIES = ["harmful_persistent", "self_harm_risk", "sycophancy_answer"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("cmpread")
    paths = []
    for model in ("steady", "caver"):
        [log] = inspect_eval(
            build_task(categories=CATEGORIES),
            model=f"equanimity/{model}",
            display="none",
            log_dir=str(d / model),
        )
        paths.append(str(log.location))
    return paths[0], paths[1]


def _flips_by_loc(pairing: Pairing) -> list[Flip]:
    """find_flips as it was: a ``.loc`` row lookup per paired sample."""
    flips = []
    for key in pairing.base.index:
        b, c = pairing.base.loc[key], pairing.cand.loc[key]
        changes = sample_changes(b, c)
        if changes:
            flips.append(
                Flip(
                    str(b["sample_id"]),
                    int(b["epoch"]),
                    str(b["scenario_id"]),
                    str(b["category"]),
                    "",
                    "",
                    tuple(changes),
                )
            )
    return flips


def test_flips_match_the_row_by_row_version(pair: tuple[str, str]) -> None:
    pairing = pair_runs(load_run(pair[0]), load_run(pair[1]))
    got = find_flips(pairing)
    want = _flips_by_loc(pairing)
    assert got, "steady vs caver flips"
    assert sorted((f.sample_id, f.epoch, f.changes) for f in got) == sorted(
        (f.sample_id, f.epoch, f.changes) for f in want
    )


def test_batched_transcripts_equal_single_reads(
    pair: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = load_run(pair[1])
    keys = [
        (str(s), int(e))
        for s, e in zip(run.samples["sample_id"], run.samples["epoch"], strict=True)
    ]
    monkeypatch.setattr(transcripts, "BATCH", 7)
    keys.insert(3, ("no-such-sample", 1))
    got = transcripts.read_transcripts(pair[1], keys)
    want = [transcripts.read_transcript(pair[1], sid, epoch) for sid, epoch in keys]
    assert got == want
    assert got[3] is None and all(m is not None for i, m in enumerate(got) if i != 3)


def test_unreadable_log_gives_no_transcripts(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.eval"
    bogus.write_text("not a log")
    assert transcripts.read_transcripts(bogus, [("a", 1), ("b", 2)]) == [None, None]
