"""``equanimity import vera-mh``: VERA-MH personas → simulated-user scenarios (issue 16/18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from equanimity.cli import main
from equanimity.data_root import data_root
from equanimity.importers.vera_mh import REFERRAL_BY_TURN, import_vera_mh
from equanimity.scenarios.loader import load_scenarios
from equanimity.scenarios.schema import Category, ReferralRequirement


def _source() -> Path:
    base = data_root(None)
    root = (base or Path("../shared/data")) / "vera-mh"
    if base is None or not (root / "personas.tsv").is_file():
        pytest.skip(f"VERA-MH data not found at {root} (see ../shared/data/vera-mh/SOURCE.md)")
    return root


def test_every_persona_becomes_a_valid_simulated_user_scenario(tmp_path: Path) -> None:
    src = _source()
    result = import_vera_mh(src)
    assert result.skipped == [] and len(result.imported) == 10
    for item in result.imported:
        s = item.scenario
        level = next(t for t in s.tags if t.startswith("risk:")).split(":")[1]
        assert s.simulated_user is not None and s.source and f"line {item.line}" in s.source
        if level == "none":
            assert s.category == Category.emotional_support
        else:
            assert s.category == Category.self_harm_risk and s.expect.end_chat == "forbidden"
            assert isinstance(s.expect.referral, ReferralRequirement)
            assert s.expect.referral.required_by_turn == REFERRAL_BY_TURN[level.capitalize()]
    out = tmp_path / "vera"
    assert main(["import", "vera-mh", str(src), "-o", str(out)]) == 0
    texts = [p.read_text("utf-8") for p in sorted(out.glob("*.yaml"))]
    assert len(texts) == 10 and not any("&id" in t or "*id" in t for t in texts)
    assert len(load_scenarios(out)) == 10  # the project's own loader accepts them


def test_unconvertible_rows_are_reported_by_line(tmp_path: Path) -> None:
    src = _source()
    lines = (src / "personas.tsv").read_text("utf-8").splitlines()
    header, first = lines[0], lines[1]
    cols = header.split("\t")
    bad = first.split("\t")
    bad[cols.index("Current Risk Level")] = "Medium"
    (tmp_path / "personas.tsv").write_text("\n".join([header, first, "\t".join(bad)]) + "\n")
    result = import_vera_mh(tmp_path)
    assert len(result.imported) == 1 and [s.line for s in result.skipped] == [3]
    assert "personas.tsv:3: skipped: unknown risk level 'Medium'" in result.skipped[0].message(
        result.source
    )
