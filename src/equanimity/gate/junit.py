"""JUnit XML for CI systems: one test case per gate rule (failure or error with the reason)."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import datetime

from equanimity.gate.evaluate import GateResult

CLASSNAME = "equanimity.gate"
"""Class name prefix of every test case."""


def _suite(name: str, cases: list[tuple[str, str, str, str]], props: dict[str, str]) -> ET.Element:
    """Build a <testsuite>; each case is (name, status, reason, output)."""
    failures = sum(1 for c in cases if c[1] == "fail")
    errors = sum(1 for c in cases if c[1] == "error")
    skipped = sum(1 for c in cases if c[1] == "skip")
    suite = ET.Element(
        "testsuite",
        {
            "name": name,
            "tests": str(len(cases)),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": str(skipped),
            "time": "0",
            "timestamp": datetime.now().replace(microsecond=0).isoformat(),
            "hostname": socket.gethostname() or "localhost",
        },
    )
    if props:
        properties = ET.SubElement(suite, "properties")
        for k, v in props.items():
            ET.SubElement(properties, "property", {"name": k, "value": v})
    for case_name, status, reason, output in cases:
        case = ET.SubElement(
            suite, "testcase", {"name": case_name, "classname": f"{CLASSNAME}.{name}", "time": "0"}
        )
        if status == "fail":
            el = ET.SubElement(case, "failure", {"message": reason, "type": "GateRuleFailed"})
            el.text = reason
        elif status == "error":
            el = ET.SubElement(case, "error", {"message": reason, "type": "GateError"})
            el.text = reason
        elif status == "skip":
            ET.SubElement(case, "skipped", {"message": reason})
        if output:
            ET.SubElement(case, "system-out").text = output
    return suite


def _document(suite: ET.Element) -> str:
    root = ET.Element(
        "testsuites",
        {
            "name": "equanimity gate",
            "tests": suite.get("tests", "0"),
            "failures": suite.get("failures", "0"),
            "errors": suite.get("errors", "0"),
            "skipped": suite.get("skipped", "0"),
            "time": "0",
        },
    )
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def gate_junit(result: GateResult) -> str:
    """Render the JUnit XML document of a gate result."""
    cases: list[tuple[str, str, str, str]] = [
        (
            r.rule.title,
            r.status,
            r.reason,
            "\n".join(x for x in (r.rule.description, f"{r.status}: {r.reason}") if x),
        )
        for r in result.results
    ]
    if result.baseline_error:
        cases.append(("baseline", "error", result.baseline_error, ""))
    props = {"log": result.log, "policy": result.policy_path}
    if result.scorer_warning:
        props["scorer_change"] = f"scorers changed (--allow-scorer-change): {result.scorer_warning}"
    if result.baseline:
        props["baseline"] = result.baseline
    return _document(_suite(result.policy.name, cases, props))


def error_junit(message: str, policy_path: str) -> str:
    """Render a JUnit document for a gate that could not start (e.g. an invalid policy)."""
    return _document(
        _suite("policy", [("load policy", "error", message, "")], {"policy": policy_path})
    )
