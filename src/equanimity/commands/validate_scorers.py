"""``equanimity validate-scorers``: every scorer layer measured on labelled real replies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspect_ai.model import ChatMessage, Model

from equanimity.scorers.judge import AUDIT_RATE, GRADER_ROLE
from equanimity.validation.data_root import ENV_VAR, resolve_data_root
from equanimity.validation.format import format_misses, format_rows, rows_json
from equanimity.validation.readers import DataError
from equanimity.validation.registry import LAYERS, LayerOptions
from equanimity.validation.rows import evaluate
from equanimity.validation.table import markdown
from equanimity.yaml_source import SourceError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``validate-scorers`` (``--data``, ``--split``, ``--limit``, ``--json`` ...)."""
    p = subparsers.add_parser(
        "validate-scorers",
        help="measure every scorer layer on labelled real replies",
        description="Run each detector layer (rule, learned, judge ...) over every labelled "
        "set found under the data folder (XSTest completions, PyRIT refusals, VERA-MH "
        "conversations, SYCON-Bench, the hand-written sets; see scorers/validation/"
        "manifest.yaml) and print one row per detector x dataset x split x layer: n, "
        "precision, recall and F1 with 95%% intervals.",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"data folder (default: ${ENV_VAR}, else ../shared/data beside the checkout)",
    )
    p.add_argument("--split", choices=("dev", "test", "all"), default="all")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="first N items per set")
    p.add_argument(
        "--layer",
        action="append",
        choices=sorted(LAYERS),
        help="layer(s) to run (repeatable; default: every layer that applies)",
    )
    p.add_argument(
        "--dataset",
        action="append",
        metavar="PREFIX",
        help="only datasets whose name starts with PREFIX (repeatable)",
    )
    p.add_argument(
        "--model-role",
        action="append",
        default=[],
        metavar="grader=MODEL",
        dest="model_roles",
        help="bind the judge (inspect syntax: grader=anthropic/..., grader=openai/..., a local "
        "server, mockllm/model, equanimity/judge-stub): adds judge and cascade rows with "
        "kappa, unparseable answers and cost (default: no judge, no cost); grader=A,B adds "
        "a panel row (majority verdict, graders' agreement) and uses A for the other rows",
    )
    p.add_argument(
        "--audit-rate",
        type=float,
        default=AUDIT_RATE,
        metavar="P",
        help="cascade rows: seeded random share of all items also sent to the "
        f"judge, on which rule-judge kappa is measured (default {AUDIT_RATE})",
    )
    p.add_argument("--json", action="store_true", help="print the rows as JSON objects")
    p.add_argument(
        "--markdown", action="store_true", help="print the rows as a markdown validity table"
    )
    p.add_argument("--misses", action="store_true", help="also list every miss (ids, replies)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the validation; exit status 0 on success, 2 when the data cannot be read."""
    if args.limit is not None and args.limit < 1:
        print("validate-scorers: --limit must be at least 1", file=sys.stderr)
        return 2
    if not 0.0 <= args.audit_rate <= 1.0:
        print("validate-scorers: --audit-rate must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        options = grader_options(args.model_roles, args.audit_rate)
    except ValueError as exc:
        print(f"validate-scorers: {exc}", file=sys.stderr)
        return 2
    try:
        root = resolve_data_root(args.data)
        evals = evaluate(
            root,
            split=args.split,
            limit=args.limit,
            layers=args.layer,
            options=options,
            only=args.dataset,
        )
    except (DataError, SourceError, FileNotFoundError) as exc:
        print(f"validate-scorers: {exc}", file=sys.stderr)
        return 2
    if not evals:
        print(f"validate-scorers: no labelled data found under {root}", file=sys.stderr)
        return 2
    rows = [e.row for e in evals]
    if args.json:
        print(rows_json(rows))
    elif args.markdown:
        print(markdown(rows), end="")
    else:
        print(format_rows(rows))
    if args.misses:
        print(format_misses(evals), file=sys.stderr if args.json else sys.stdout)
    return 0


MOCK_DEFAULT = "Default output from mockllm/model"
"""What inspect's ``mockllm/model`` answers when given no outputs."""


def _offline_mockllm(model: Model) -> Model:
    """Plain ``mockllm/model`` with its default text and usage estimated locally.

    Without outputs of its own, mockllm counts tokens with tiktoken, which downloads its
    encoding (and fails offline); the answer is the same default text either way.
    """
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    def answer(input: list[ChatMessage], *_: object) -> ModelOutput:
        out = ModelOutput.from_content("mockllm/model", MOCK_DEFAULT)
        n = sum(len(m.text) for m in input) // 4
        out.usage = ModelUsage(input_tokens=n, output_tokens=8, total_tokens=n + 8)
        return out

    return get_model("mockllm/model", custom_outputs=answer, config=model.config, memoize=False)


def grader_options(specs: list[str], audit_rate: float) -> LayerOptions:
    """Layer options with the grader of ``--model-role grader=MODEL`` bound (if given)."""
    if not specs:
        return LayerOptions(audit_rate=audit_rate)
    from equanimity.rescore.worker import build_model_roles

    panel = _panel_names(specs)
    if panel:
        models = [_graders(f"{GRADER_ROLE}={name}") for name in panel]
        return LayerOptions(
            grader=str(models[0]), grader_model=models[0], panel=models, audit_rate=audit_rate
        )
    roles = build_model_roles(tuple(specs))
    unknown = sorted(set(roles) - {GRADER_ROLE})
    if unknown:
        raise ValueError(
            f"--model-role: only '{GRADER_ROLE}' is used here (got {', '.join(unknown)})"
        )
    grader = roles.get(GRADER_ROLE)
    if isinstance(grader, list):
        grader = grader[0] if grader else None
    if grader is None:
        return LayerOptions(audit_rate=audit_rate)
    if str(grader) == "mockllm/model":
        grader = _offline_mockllm(grader)
    return LayerOptions(grader=str(grader), grader_model=grader, audit_rate=audit_rate)


def _panel_names(specs: list[str]) -> list[str]:
    """The model names of ``grader=A,B,...`` (a panel), else []."""
    for spec in specs:
        role, _, raw = spec.partition("=")
        if role.strip() == GRADER_ROLE and "," in raw and not raw.strip().startswith("{"):
            return [n.strip() for n in raw.split(",") if n.strip()]
    return []


def _graders(spec: str) -> Model:
    """One grader of a panel (plain ``mockllm/model`` gets its offline default answers)."""
    from equanimity.rescore.worker import build_model_roles

    model = build_model_roles((spec,))[GRADER_ROLE]
    assert not isinstance(model, list)
    return _offline_mockllm(model) if str(model) == "mockllm/model" else model
