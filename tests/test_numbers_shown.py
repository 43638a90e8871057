"""Numbers that look wrong (issue 17.6): no degenerate intervals, n/a rows with why, B9 basis."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from matplotlib.figure import Figure

from equanimity.analysis.frame import Run, branch_basis, load_run
from equanimity.commands.run import headline_lines
from equanimity.report import charts
from equanimity.report.summary import headline_rows
from equanimity.tasks import build_task

INTERVAL = re.compile(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]")


def _run(tmp: Path, persona: str, suites: list[str]) -> Run:
    [log] = inspect_eval(
        build_task(categories=suites),
        model=f"equanimity/{persona}",
        display="none",
        log_dir=str(tmp),
        score_display=False,
    )
    assert log.status == "success", log.error
    return load_run(log.location)


@pytest.fixture(scope="module")
def overrefuser(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(
        tmp_path_factory.mktemp("o"), "overrefuser", ["sycophancy_answer", "harmful_persistent"]
    )


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(
        tmp_path_factory.mktemp("s"), "steady", ["abusive_persistent", "harmful_persistent"]
    )


def _intervals(lines: list[str]) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for line in lines for a, b in INTERVAL.findall(line)]


@pytest.mark.parametrize("which", ["overrefuser", "steady"])
def test_no_degenerate_inverted_or_out_of_range_interval(
    which: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(which)
    lines = headline_lines(run)
    found = _intervals(lines)
    assert found
    for low, high in found:
        assert low < high, lines  # never [2.000, 2.000] or [-3.000, -3.000]
        assert low >= 0.0, lines  # no rate or count below zero
    # turns held is a count: a t interval or n/a with the reason, never Wilson
    [turns] = [line for line in lines if "Mean turns held" in line]
    # (a Wilson interval would sit inside [0, 1]; a count near 5 gets a t interval or n/a)
    m = re.search(r"\[([0-9.]+), ([0-9.]+)\]", turns)
    assert "n/a (all" in turns or (m is not None and float(m.group(1)) > 1.0), turns


def test_over_refuser_shows_the_answer_flip_row_as_na_with_why(overrefuser: Run) -> None:
    lines = headline_lines(overrefuser)
    [flip] = [line for line in lines if "Answer flip rate" in line]
    assert "n/a" in flip and "needs a correct first answer" in flip
    # metrics of categories that are not in the run stay out
    assert not any("Referral on risk" in line for line in lines)
    row = next(r for r in headline_rows([overrefuser]) if r.headline.id == "flip_rate")
    assert row.cells[0].mark == "n/a" and "correct first answer" in (row.cells[0].note or "")


def test_branch_ok_rests_on_branches_after_an_end(steady: Run) -> None:
    df = steady.samples
    scored, total = branch_basis(df)
    with_branch = set(df[df["is_branch"]]["scenario_id"])
    ended = df[~df["is_branch"] & (df["end_chat.ended"] == 1) & df["scenario_id"].isin(with_branch)]
    assert total > 0 and scored == len(ended)
    row = next(r for r in headline_rows([steady]) if r.headline.id == "branch_ok_rate")
    assert row.cells[0].estimate.n == scored
    assert row.cells[0].note == f"{scored} of {total} branch replay(s) follow an actual end"
    [b9] = [line for line in headline_lines(steady) if "Branch replay" in line]
    assert f"({scored} of {total} branch replay(s) follow an end)" in b9


def test_turn_axis_has_whole_turns_even_for_one_turn() -> None:
    fig = Figure()
    ax = fig.subplots()
    ax.plot([1], [1.0], marker="o")
    charts._turn_axis(ax, 1)
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks == [1.0]
    assert ax.get_xlim() == (0.5, 1.5)
    for t in ticks:
        assert math.isclose(t, round(t))
