"""The main job's seeded, stratified selection (``run --sample N`` / ``--all``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspect_ai.log import read_eval_log

from equanimity.cli import build_parser, main
from equanimity.commands.run import DEFAULT_MODEL, sample_size
from equanimity.report.render import render_report
from equanimity.scenarios.loader import library_paths, load_scenarios
from equanimity.scenarios.schema import Category
from equanimity.scenarios.selection import DEFAULT_PER_CATEGORY, METADATA_KEY, stratified_sample


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", *argv])


def test_default_local_run_samples_and_everything_else_runs_all():
    assert sample_size(_args()) == DEFAULT_PER_CATEGORY
    assert _args().model == DEFAULT_MODEL
    assert sample_size(_args("--all")) is None
    assert sample_size(_args("--sample", "3")) == 3
    assert sample_size(_args("--model", "equanimity/steady")) is None
    assert sample_size(_args("--scenarios", "x")) is None
    assert sample_size(_args("--suite", "self_harm_risk")) is None
    assert sample_size(_args("--model", "equanimity/steady", "--sample", "2")) == 2


def test_sample_is_stratified_seeded_and_order_independent():
    library = load_scenarios(library_paths())
    chosen, sel = stratified_sample(library, 3, seed=7)
    for cat in Category:
        have = sum(s.category == cat for s in library)
        assert sum(s.category == cat for s in chosen) == min(3, have)
    again, _ = stratified_sample(list(reversed(library)), 3, seed=7)
    assert sorted(s.id for s in again) == sorted(s.id for s in chosen)
    other, _ = stratified_sample(library, 3, seed=8)
    assert {s.id for s in other} != {s.id for s in chosen}
    assert (sel.selected, sel.available) == (len(chosen), len(library))
    assert "up to 3 per category (seed 7)" in sel.describe()
    # one category growing leaves the others' draw unchanged
    fewer = [s for s in library if s.category != Category.self_harm_risk]
    part, _ = stratified_sample(fewer, 3, seed=7)
    assert {s.id for s in part} == {s.id for s in chosen if s.category != Category.self_harm_risk}


def test_run_records_the_selection_in_log_output_and_report(tmp_path: Path, capsys):
    code = main(
        [
            "run",
            "--model",
            "equanimity/steady",
            "--sample",
            "1",
            "--no-branches",
            "--log-dir",
            str(tmp_path),
            "--no-report",
            "--display",
            "none",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("selection: seeded sample, up to 1 per category (seed 0): 9 of ")
    [log_path] = sorted(tmp_path.glob("*.eval"))
    header = read_eval_log(str(log_path), header_only=True)
    selection = (header.eval.metadata or {})[METADATA_KEY]
    assert selection["per_category"] == 1 and selection["selected"] == 9
    html = render_report([str(log_path)], tmp_path / "r.html").read_text()
    assert "Scenarios: seeded sample, up to 1 per category (seed 0): 9 of" in html
