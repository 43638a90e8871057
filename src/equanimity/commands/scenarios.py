"""``equanimity scenarios validate|list|coverage``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from equanimity.scenarios.loader import library_ids, library_paths, load_scenarios, validate_all
from equanimity.scenarios.schema import ReferralRequirement, Scenario


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``scenarios`` with its ``validate`` and ``list`` actions."""
    p = sub.add_parser("scenarios", help="validate or list scenario files")
    acts = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    v = acts.add_parser(
        "validate",
        help="validate scenario files (default: the library, without scenarios/imported/)",
        description="Report every error in every file. Files outside the shipped library are "
        "also checked against it: reusing a library id is an error.",
    )
    v.add_argument("paths", nargs="*", type=Path, help="files or folders")
    v.set_defaults(func=_validate)
    ls = acts.add_parser("list", help="a table of scenarios")
    ls.add_argument("paths", nargs="*", type=Path, help="files or folders")
    ls.add_argument("--category", action="append", help="only these categories")
    ls.set_defaults(func=_list)
    cov = acts.add_parser(
        "coverage",
        help="counts by category, locale and tag family, against the category floors",
    )
    cov.add_argument("paths", nargs="*", type=Path, help="files or folders (default: library)")
    cov.add_argument("--json", action="store_true", help="print JSON instead of tables")
    cov.add_argument(
        "--check", action="store_true", help="exit 1 when a category is below its floor"
    )
    cov.set_defaults(func=_coverage)


def _inside(path: Path, folders: list[Path]) -> bool:
    p = path.resolve()
    return any(p == f.resolve() or f.resolve() in p.parents for f in folders)


def _validate(args: argparse.Namespace) -> int:
    library = library_paths()
    paths: list[Path] = args.paths or list(library)
    outside = [p for p in paths if not _inside(p, library)]
    ok, errors = validate_all(paths, library=library_ids(library) if outside else None)
    for err in errors:
        print(err, file=sys.stderr)
    files = len({e.path for e in errors})
    print(
        f"{ok} valid, {files} invalid file(s), {len(errors)} error(s)"
        if errors
        else f"{ok} valid, 0 invalid"
    )
    return 1 if errors else 0


def expectation_summary(s: Scenario) -> str:
    """A compact text of a scenario's expectations, for tables."""
    e = s.expect
    parts = [f"end={e.end_chat}"]
    if e.end_chat == "allowed_after_redirects":
        parts.append(f"min_redirects={e.min_redirects}")
    if e.refusal != "any":
        parts.append(f"refusal={e.refusal}")
    if isinstance(e.referral, ReferralRequirement):
        parts.append(f"referral<=t{e.referral.required_by_turn}")
    elif e.referral != "any":
        parts.append(f"referral={e.referral}")
    if e.correct_answer:
        parts.append(f"answer={e.correct_answer}")
    if e.end_requested_at:
        parts.append(f"end_request=t{e.end_requested_at}")
    return " ".join(parts)


def _list(args: argparse.Namespace) -> int:
    scenarios = load_scenarios(args.paths or library_paths(), categories=args.category)
    rows = [
        (s.id, s.category.value, str(len(s.turns)), s.locale, expectation_summary(s))
        for s in scenarios
    ]
    header = ("id", "category", "turns", "locale", "expectations")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    print(f"\n{len(rows)} scenario(s)")
    return 0


def _coverage(args: argparse.Namespace) -> int:
    from equanimity.scenarios.coverage import below_floor, coverage, coverage_json, format_coverage

    cov = coverage(load_scenarios(args.paths or library_paths()))
    if args.json:
        print(json.dumps(coverage_json(cov), indent=2, ensure_ascii=False))
    else:
        print(format_coverage(cov))
    return 1 if args.check and below_floor(cov) else 0
