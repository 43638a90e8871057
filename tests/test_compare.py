"""Regression comparison: paired statistics, pairing rules, flips, reports and the CLI."""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from inspect_ai import eval as inspect_eval
from scipy import stats as sps

from equanimity.analysis.frame import Run
from equanimity.analysis.headline import HEADLINE_BY_ID
from equanimity.cli import main
from equanimity.compare import render as render_mod
from equanimity.compare.comparison import compare_logs, compare_runs
from equanimity.compare.flips import find_flips
from equanimity.compare.metrics import compare_metric
from equanimity.compare.pairing import PairingError, pair_runs
from equanimity.compare.sidebyside import TurnSide
from equanimity.compare.stats import (
    compare_paired,
    mcnemar_test,
    newcombe_paired_interval,
    paired_mean_test,
)
from equanimity.compare.transcripts import Message
from equanimity.paths import scenarios_dir
from equanimity.tasks import build_task
from tests.conftest import provenance_metadata

SUBSET = ["harmful_persistent", "self_harm_risk"]

MakeRun = Callable[..., str]


# --------------------------------------------------------------------------- statistics


def test_mcnemar_wikipedia_example() -> None:
    # Wikipedia, "McNemar's test", worked example: a=101, b=121, c=59, d=33 (n=314);
    # published chi-square 21.35 (no continuity correction), p about 3.8e-6.
    res = mcnemar_test(121, 59, exact=False, correction=False)
    assert res.statistic == pytest.approx(21.35, abs=0.01)
    assert res.pvalue == pytest.approx(3.8e-6, rel=0.02)
    assert not res.exact


def test_mcnemar_agresti_presidential_approval() -> None:
    # Agresti, An Introduction to Categorical Data Analysis (2nd ed.), Table 10.1: approval of
    # the president's performance in two surveys of the same 1600 people: 794 approve/approve,
    # 150 approve/disapprove, 86 disapprove/approve, 570 disapprove/disapprove.
    # Published: z = 4.17 (z^2 = 17.36), p < 0.001; difference of proportions 0.59 - 0.55 = 0.04
    # with 95% interval (0.02, 0.06).
    res = mcnemar_test(150, 86, exact=False, correction=False)
    assert res.statistic == pytest.approx(17.36, abs=0.01)
    assert math.sqrt(res.statistic) == pytest.approx(4.17, abs=0.005)
    assert res.pvalue < 0.001
    low, high = newcombe_paired_interval(794, 150, 86, 570)
    assert (round(low, 2), round(high, 2)) == (0.02, 0.06)


def test_mcnemar_exact_for_few_discordant_pairs() -> None:
    # exact binomial: 10 discordant pairs all one way, p = 2 * 0.5**10
    res = mcnemar_test(0, 10)
    assert res.exact
    assert res.pvalue == pytest.approx(2 * 0.5**10)
    assert mcnemar_test(3, 3).pvalue == pytest.approx(1.0)
    assert mcnemar_test(0, 0).pvalue == 1.0
    assert not mcnemar_test(20, 10).exact  # 30 discordant: chi-square with correction
    assert mcnemar_test(20, 10).statistic == pytest.approx((abs(20 - 10) - 1) ** 2 / 30)


def test_newcombe_interval_properties() -> None:
    for a, b, c, d in [(0, 0, 9, 0), (5, 1, 0, 4), (0, 0, 0, 10), (3, 4, 2, 1)]:
        n = a + b + c + d
        theta = (b - c) / n
        low, high = newcombe_paired_interval(a, b, c, d)
        assert -1.0 <= low <= theta <= high <= 1.0
    # no discordant pair in 10: a symmetric interval around zero, narrower with more pairs
    low10, high10 = newcombe_paired_interval(0, 0, 0, 10)
    _, high40 = newcombe_paired_interval(0, 0, 0, 40)
    assert low10 == pytest.approx(-high10)
    assert high40 < high10


def test_paired_mean_test_is_deterministic_and_matches_scipy() -> None:
    diffs = [0.5, 1.0, -0.25, 0.75, 1.5, 0.0, 0.25, 1.25, 0.5, 1.0, -0.5, 0.75]
    first = paired_mean_test(diffs)
    assert first == paired_mean_test(diffs)
    low, high, p, note = first
    assert note is None
    # 12 scenarios: the sign-flip test enumerates all 2^12 sign patterns (exact): count them
    d = np.asarray(diffs)
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * d.size)).reshape(d.size, -1).T
    null = (signs * d).mean(axis=1)
    exact = float(np.mean(np.abs(null) >= abs(d.mean()) - 1e-12))
    assert p == pytest.approx(exact)
    assert p < 0.05
    # the same percentile interval as an independent scipy bootstrap, up to Monte Carlo noise
    ref = sps.bootstrap(
        (d,), np.mean, method="percentile", n_resamples=20_000, rng=np.random.default_rng(0)
    ).confidence_interval
    assert low == pytest.approx(ref.low, abs=0.03)
    assert high == pytest.approx(ref.high, abs=0.03)


def test_paired_mean_test_null_and_degenerate() -> None:
    low, high, p, note = paired_mean_test([0.0] * 8)
    assert p == 1.0 and math.isnan(low) and note == "no change in any of the 8 scenarios"
    # every scenario changed by the same amount: no zero-width interval, the reason instead
    low, high, p, note = paired_mean_test([-3.0] * 9)
    assert math.isnan(low) and math.isnan(high)
    assert note == "every scenario changed by the same -3.000"
    assert p == pytest.approx(2 / 2**9)
    _, _, p_noise, _ = paired_mean_test([0.1, -0.1, 0.2, -0.2, 0.05, -0.05])
    assert p_noise > 0.5


def test_compare_paired_picks_the_test() -> None:
    binary = compare_paired([1, 1, 1, 0], [0, 0, 1, 0])
    assert binary.test == "mcnemar-exact"
    assert binary.discordant == (0, 2)
    assert binary.diff == pytest.approx(-0.5)
    means = compare_paired([5.0, 5.0, 4.0], [2.0, 2.5, 2.0])
    assert means.test == "sign-flip"
    assert means.diff == pytest.approx(-2.5)
    assert compare_paired([], []).test == "none"
    with pytest.raises(ValueError, match="equally many"):
        compare_paired([1.0], [])


# --------------------------------------------------------------------------- pairing


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {
        "epoch": 1,
        "scenario_version": 1,
        "category": "harmful_persistent",
        "error": None,
        "outcome": "no_end",
    }
    out = []
    for r in rows:
        row = {**base, **r}
        row.setdefault("scenario_id", row["sample_id"])
        out.append(row)
    return pd.DataFrame(out)


def _run(name: str, rows: list[dict[str, Any]]) -> Run:
    return Run(name, None, _frame(rows))  # type: ignore[arg-type]


def _ids(*ids: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"sample_id": i, **extra} for i in ids]


def test_pairing_by_sample_and_epoch() -> None:
    b = _run("b", _ids("s1", "s2") + _ids("s1", epoch=2))
    c = _run("c", _ids("s1", epoch=2) + _ids("s2", "s1"))
    p = pair_runs(b, c)
    assert p.n == 3 and p.dropped == 0
    assert list(p.base.index) == list(p.cand.index)
    assert list(p.cand["epoch"]) == [1, 1, 2]


def test_pairing_refuses_different_sets() -> None:
    b = _run("b", _ids("s1", "s2", "s3"))
    c = _run("c", _ids("s1", "s2", "s4"))
    with pytest.raises(
        PairingError,
        match=r"1 sample\(s\) only in the baseline \(s3#1\)"
        r".*only in the candidate \(s4#1\).*--intersection",
    ):
        pair_runs(b, c)
    p = pair_runs(b, c, intersection=True)
    assert p.n == 2
    assert (p.only_baseline, p.only_candidate, p.dropped) == (["s3#1"], ["s4#1"], 2)


def test_pairing_refuses_other_epochs() -> None:
    b = _run("b", _ids("s1"))
    c = _run("c", _ids("s1") + _ids("s1", epoch=2))
    with pytest.raises(PairingError, match=r"only in the candidate \(s1#2\)"):
        pair_runs(b, c)


def test_pairing_refuses_changed_versions() -> None:
    b = _run("b", _ids("s1", "s2"))
    c = _run("c", _ids("s1") + _ids("s2", scenario_version=2))
    with pytest.raises(PairingError, match=r"different scenario version \(s2#1 v1→v2\)"):
        pair_runs(b, c)
    p = pair_runs(b, c, intersection=True)
    assert p.n == 1 and p.version_changed == ["s2#1"] and p.dropped == 2


def test_pairing_errors_on_empty_duplicate_or_disjoint() -> None:
    with pytest.raises(PairingError, match="no samples"):
        pair_runs(_run("b", []), _run("c", _ids("s1")))
    with pytest.raises(PairingError, match="more than once"):
        pair_runs(_run("b", _ids("s1", "s1")), _run("c", _ids("s1")))
    with pytest.raises(PairingError, match="no common"):
        pair_runs(_run("b", _ids("s1")), _run("c", _ids("s2")), intersection=True)


# --------------------------------------------------------------------------- metrics, flips


def _persist(ids: list[str], values: list[float], **extra: Any) -> list[dict[str, Any]]:
    return [
        {"sample_id": i, "refusal_persistence.persisted": v, **extra}
        for i, v in zip(ids, values, strict=True)
    ]


def test_metric_verdicts_follow_direction() -> None:
    ids = [f"h{i}" for i in range(9)]
    b = _run("b", _persist(ids, [1.0] * 9))
    c = _run("c", _persist(ids, [0.0] * 9))
    p = pair_runs(b, c)
    h = HEADLINE_BY_ID["persistence_rate"]
    assert compare_metric(p, h).verdict == "regression"
    assert compare_metric(pair_runs(c, b), h).verdict == "improvement"
    assert compare_metric(pair_runs(b, b), h).verdict == "no significant change"
    assert compare_metric(p, h, "self_harm_risk").verdict == "no data"


def test_errored_samples_are_left_out_of_metrics() -> None:
    ids = ["h1", "h2", "h3"]
    b = _run("b", _persist(ids, [1.0, 1.0, 1.0]))
    rows = _persist(ids, [1.0, 1.0, 1.0])
    rows[2]["error"] = "boom"
    m = compare_metric(pair_runs(b, _run("c", rows)), HEADLINE_BY_ID["persistence_rate"])
    assert m.result.n == 2 and m.unpaired == 1


def test_flips_worst_first() -> None:
    base = [
        {
            "sample_id": "risk-1",
            "category": "self_harm_risk",
            "end_chat.wrongful_end": 0.0,
            "outcome": "no_end",
        },
        {"sample_id": "harm-1", "refusal_persistence.persisted": 1.0},
        {"sample_id": "harm-2", "refusal_persistence.persisted": 0.0},
        {"sample_id": "harm-3", "refusal_persistence.persisted": 1.0},
        {"sample_id": "harm-4", "refusal_persistence.persisted": 1.0},
    ]
    cand = [
        {
            "sample_id": "risk-1",
            "category": "self_harm_risk",
            "end_chat.wrongful_end": 1.0,
            "outcome": "wrongful_end",
        },
        {"sample_id": "harm-1", "refusal_persistence.persisted": 0.0},
        {"sample_id": "harm-2", "refusal_persistence.persisted": 1.0},
        {"sample_id": "harm-3", "refusal_persistence.persisted": 1.0},
        {"sample_id": "harm-4", "refusal_persistence.persisted": 1.0, "error": "timeout"},
    ]
    flips = find_flips(pair_runs(_run("b", base), _run("c", cand)))
    assert [f.sample_id for f in flips] == ["risk-1", "harm-1", "harm-4", "harm-2"]
    assert [f.severity_label for f in flips] == [
        "critical regression",
        "regression",
        "regression",
        "improvement",
    ]
    assert flips[0].changes[0].metric == "outcome"
    assert {c.metric for c in flips[0].changes} == {"outcome", "wrongful_end_risk"}
    assert flips[2].changes[0].metric == "error"
    assert flips[2].candidate_outcome == "error"


# --------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> MakeRun:
    cache: dict[tuple[Any, ...], str] = {}

    def make(
        model: str,
        categories: list[str] | None = None,
        seed: int | None = None,
        scenarios: list[str] | None = None,
    ) -> str:
        key = (model, tuple(categories or ()), seed, tuple(scenarios or ()))
        if key not in cache:
            d = tmp_path_factory.mktemp("logs")
            [log] = inspect_eval(
                build_task(categories=categories, scenarios=scenarios),
                model=f"equanimity/{model}",
                model_args={} if seed is None else {"seed": seed},
                display="none",
                log_dir=str(d),
                metadata=provenance_metadata(),
            )
            assert log.status == "success", log.error
            cache[key] = log.location
        return cache[key]

    return make


def test_compare_steady_against_caver(
    make_run: MakeRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = make_run("steady", SUBSET), make_run("caver", SUBSET)
    out, md = tmp_path / "cmp.html", tmp_path / "cmp.md"
    code = main(["compare", base, cand, "-o", str(out), "--markdown", str(md)])
    assert code == 0
    assert "regression: persistence_rate 1.000 -> 0.000" in capsys.readouterr().out

    cmp = compare_logs(base, cand)
    persistence = next(
        m for m in cmp.metrics if m.headline.id == "persistence_rate" and m.category is None
    )
    assert persistence.verdict == "regression"
    assert persistence.result.pvalue < 0.01
    assert persistence.result.high < 0  # the whole interval of the difference is below zero
    flipped = {
        f.sample_id for f in cmp.flips if any(c.metric == "persistence_rate" for c in f.changes)
    }
    harmful = set(cmp.pairing.base.query("category == 'harmful_persistent'")["sample_id"])
    assert flipped == harmful

    text = md.read_text()
    assert re.search(r"`persistence_rate`.*\*\*regression\*\*", text)
    assert "### Flipped samples" in text
    assert all(f"`{sid}`" in text for sid in harmful)

    html = out.read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<script" not in html
    for f in cmp.flips:
        assert f'id="{f.anchor}"' in html and f'href="#{f.anchor}"' in html


def test_compare_steady_against_another_seed(make_run: MakeRun, tmp_path: Path) -> None:
    base, cand = make_run("steady", SUBSET), make_run("steady", SUBSET, seed=1)
    cmp = compare_logs(base, cand)
    assert cmp.pairing.n > 0
    assert [m.headline.id for m in cmp.regressions] == []
    assert all(m.verdict in ("no significant change", "no data") for m in cmp.metrics)
    code = main(
        [
            "compare",
            base,
            cand,
            "-o",
            str(tmp_path / "c.html"),
            "--markdown",
            str(tmp_path / "c.md"),
        ]
    )
    assert code == 0
    assert "**regression**" not in (tmp_path / "c.md").read_text()


def _scripted(folder: Path) -> int:
    """Scenario files a run without a simulated user replays (simulated-user ones are skipped)."""
    from equanimity.scenarios.dataset import needs_user_model
    from equanimity.scenarios.loader import load_scenario

    return sum(not needs_user_model(load_scenario(f)) for f in folder.glob("*.yaml"))


def test_compare_refuses_other_scenarios_unless_intersection(
    make_run: MakeRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_run("steady", SUBSET)
    cand = make_run("caver", ["harmful_persistent"])
    out = tmp_path / "cmp.html"
    assert main(["compare", base, cand, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "only in the baseline" in err and "--intersection" in err
    assert not out.exists()
    assert main(["compare", base, cand, "-o", str(out), "--intersection"]) == 0
    only_in_base = _scripted(scenarios_dir() / "self_harm_risk")
    assert f"dropped {only_in_base} only in the baseline" in capsys.readouterr().err
    assert out.exists()


def test_compare_refuses_changed_scenario_versions(
    make_run: MakeRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = scenarios_dir() / "harmful_persistent"
    bumped = tmp_path / "harmful_persistent"
    shutil.copytree(src, bumped)
    first = sorted(bumped.glob("*.yaml"))[0]
    text = first.read_text(encoding="utf-8")
    text = (
        re.sub(r"(?m)^version: *\d+", "version: 99", text)
        if re.search(r"(?m)^version:", text)
        else "version: 99\n" + text
    )
    first.write_text(text, encoding="utf-8")
    base = make_run("caver", ["harmful_persistent"])  # shared with the intersection test
    cand = make_run("steady", scenarios=[str(bumped)])
    assert main(["compare", base, cand, "-o", str(tmp_path / "c.html")]) == 2
    assert "different scenario version" in capsys.readouterr().err
    cmp = compare_logs(base, cand, intersection=True)
    assert cmp.pairing.version_changed and cmp.pairing.n == _scripted(src) - 1


def test_compare_unreadable_log_exits_2(
    make_run: MakeRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "bogus.eval"
    bogus.write_text("not a log")
    assert (
        main(["compare", str(bogus), make_run("steady", SUBSET), "-o", str(tmp_path / "c.html")])
        == 2
    )
    assert "bogus.eval" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "missing.eval"), str(bogus)]) == 2


def test_html_escapes_model_text(make_run: MakeRun, monkeypatch: pytest.MonkeyPatch) -> None:
    cmp = compare_logs(make_run("steady", SUBSET), make_run("caver", SUBSET))
    evil = "<script>alert(1)</script><img src=https://x.example/a.png>"
    side = TurnSide(evil, "user", evil, "complied", (f"end({evil})",))

    # turn by turn (replay records) ...
    monkeypatch.setattr(render_mod, "turns_of", lambda sample: [side, side])
    html = render_mod.render_html(cmp)
    assert "<script>" not in html and "<img src=https" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    # ... and as plain messages (no replay record)
    def fake(messages: object) -> list[Message]:
        return [Message("user", evil), Message("assistant", evil, (f"end({evil})",))]

    monkeypatch.setattr(render_mod, "turns_of", lambda sample: None)
    monkeypatch.setattr(render_mod, "to_messages", fake)
    html = render_mod.render_html(cmp)
    assert "<script>" not in html and "<img src=https" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_history_orders_runs_and_draws_chart(
    make_run: MakeRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for model, seed in (("steady", None), ("caver", None), ("steady", 1)):
        src = Path(make_run(model, SUBSET, seed=seed))
        shutil.copy(src, logs / src.name)
    (logs / "junk.eval").write_text("not a log")
    out, md = tmp_path / "h.html", tmp_path / "h.md"
    assert main(["history", str(logs), "-o", str(out), "--markdown", str(md)]) == 0
    assert "junk.eval" in capsys.readouterr().out  # skipped, with why
    html = out.read_text()
    assert "data:image/png;base64," in html and "default-src 'none'" in html
    rows = [line for line in md.read_text().splitlines() if line.startswith("| 20")]
    assert len(rows) == 3
    assert [r.split("|")[2].strip() for r in rows] == [
        "`equanimity/steady`",
        "`equanimity/caver`",
        "`equanimity/steady`",
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["history", str(empty), "-o", str(tmp_path / "e.html")]) == 2


def test_compare_runs_in_memory_matches_cli(make_run: MakeRun) -> None:
    from equanimity.analysis.frame import load_run

    base, cand = make_run("steady", SUBSET), make_run("caver", SUBSET)
    a = compare_runs(load_run(base), load_run(cand))
    b = compare_logs(base, cand)
    assert [m.result for m in a.metrics] == [m.result for m in b.metrics]
    assert "Flipped samples" in render_mod.render_markdown(a)
