"""The bench gives a verdict only when its floor runs stayed steady between repeats."""

from __future__ import annotations

from typing import Any

from bench.replay import Overhead, VariantRuns
from bench.results import overhead_lines

from equanimity.tasks import quiet_display


def _runs(variant: str, walls: list[float]) -> VariantRuns:
    runs: list[dict[str, Any]] = [
        {"wall_s": w, "cpu_s": w, "peak_rss_mb": 200.0, "load_start": 1.0, "load_end": 1.2}
        for w in walls
    ]
    return VariantRuns(variant, 1000, runs)


def _overhead(floor: list[float]) -> Overhead:
    return Overhead(
        1000,
        {
            "equanimity": _runs("equanimity", [27.0, 27.5, 28.0]),
            "plain": _runs("plain", [23.0, 23.5, 24.0]),
            "floor": _runs("floor", floor),
        },
    )


def test_steady_floor_gives_a_verdict() -> None:
    o = _overhead([23.0, 23.8, 24.5])
    assert o.steady() and o.drift() is not None
    text = "\n".join(overhead_lines(o))
    assert "meets the ≤ 1.25 target" in text and "no wall-time verdict" not in text
    assert "1.0–1.2" in text  # each run's load is in the table


def test_drifting_floor_gives_no_verdict() -> None:
    o = _overhead([23.0, 26.0, 24.0])  # 13% apart
    assert not o.steady()
    text = "\n".join(overhead_lines(o))
    assert "**no wall-time verdict**" in text and "13%" in text
    assert "meets" not in text and "misses" not in text


def test_wall_drift_with_steady_cpu_gives_a_cpu_verdict_only() -> None:
    o = _overhead([23.0, 26.0, 24.0])
    for r, cpu in zip(o.variants["floor"].runs, [20.0, 20.5, 21.0], strict=True):
        r["cpu_s"] = cpu  # CPU within 5%: the load stretched the wall time only
    assert not o.steady() and o.steady("cpu_s")
    text = "\n".join(overhead_lines(o))
    assert "**no wall-time verdict**" in text
    assert "by CPU time" in text and "5%" in text and "meets the target" in text
    # a CPU ratio above the target is reported as a miss
    for r in o.equanimity.runs:
        r["cpu_s"] = 40.0
    assert "misses the target" in "\n".join(overhead_lines(o))


def test_a_single_run_gives_no_verdict() -> None:
    o = _overhead([23.0])
    assert o.drift() is None and not o.steady()
    assert "no wall-time verdict" in "\n".join(overhead_lines(o))


def test_display_none_skips_the_results_panel() -> None:
    assert quiet_display("none") == "log"
    assert quiet_display("plain") == "plain"


def test_model_part_names_the_main_job_and_its_verdict() -> None:
    from bench.results import model_lines

    r: dict[str, Any] = {
        "status": "success",
        "main_job": True,
        "samples": 122,
        "calls": 500,
        "eval_wall_s": 525.0,
        "eval_cpu_s": 520.0,
        "generate_s": 500.0,
        "generate_cpu_s": 498.0,
        "load_s": 0.3,
        "load_start": 1.0,
        "load_end": 1.1,
    }
    text = "\n".join(model_lines(r))
    assert "The main job" in text and "122 samples" in text
    assert "**1.049**" in text and "meets" in text
    slow = "\n".join(model_lines({**r, "main_job": False, "eval_wall_s": 560.0}))
    assert "The first 122 library samples" in slow and "misses" in slow


def test_post_part_shows_the_template_rescore_row() -> None:
    from bench.post import PostResults
    from bench.results import post_lines

    p = PostResults([1000], template_samples=525)
    p.template_rescore = {"wall_s": 6.5, "total_cpu_s": 9.0, "peak_rss_bound_mb": 700.0}
    p.template_rescore |= {"cpu_s": 1.0, "peak_rss_mb": 300.0, "load_start": 0.5}
    text = "\n".join(post_lines(p))
    assert "| 525 (template) | rescore, head probabilities re-used | 6.5 | 9.0 | 700 |" in text


def test_post_part_shows_the_second_rescore_after_the_first() -> None:
    from bench.post import PostResults
    from bench.results import post_lines

    p = PostResults([10000], template_samples=525)
    base = {"cpu_s": 1.0, "peak_rss_mb": 300.0, "load_start": 0.5}
    p.ops[10000] = {"rescore": {**base, "wall_s": 84.4, "total_cpu_s": 165.0}}
    p.rescore_again[10000] = {**base, "wall_s": 40.0, "total_cpu_s": 70.0}
    rows = [line for line in post_lines(p) if line.startswith("| 10,000")]
    assert rows[0].startswith("| 10,000 | rescore | 84.4 | 165.0 |")
    assert rows[1].startswith("| 10,000 | rescore again, head probabilities re-used | 40.0 | 70.0")


def test_like_for_like_ratio_against_plain_under_the_same_collector() -> None:
    o = _overhead([23.0, 23.5, 24.0])
    o.variants["plain-collector"] = _runs("plain-collector", [20.0, 20.0, 20.0])
    text = "\n".join(overhead_lines(o))
    # equanimity 27.5 / plain 23.5 = 1.17 headline; like for like 27.5 / 20.0 = 1.38
    assert "**1.17×** wall time" in text
    assert "Like for like" in text and "**1.38×** wall" in text
