"""Run mypy as if the ``local`` extra (llama-cpp-python, the GGUF package) were not installed.

``warn_unused_ignores`` must hold both ways: a ``type: ignore`` that only a typed llama_cpp
needs is unused (an error) where the extra is absent, and the other way round. Installing a
second environment without the extra costs a few minutes; instead this builds a shadow
environment in seconds: a venv (no pip) whose site-packages holds a symlink to every entry of
this environment's site-packages except the files of the extra's distributions and of the
dependencies only they pull in. mypy runs here but resolves imports through the shadow
interpreter (``--python-executable``), so for it llama_cpp is not installed; the script checks
that the shadow interpreter cannot import it before trusting the run.

Usage (from the checkout, in the dev environment): ``python scripts/mypy_without_local.py
[MYPY ARGS]``. Exit status: mypy's (2 if the shadow environment could not hide the extra).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "equanimity"
EXTRA = "local"
ROOT = Path(__file__).resolve().parent.parent
SHADOW = ROOT / ".mypy_cache" / "without-local-env"
CACHE = ROOT / ".mypy_cache" / "without-local"


def _requires(dist: md.Distribution, extras: set[str]) -> set[str]:
    """Names of the distributions ``dist`` requires with ``extras`` requested."""
    out: set[str] = set()
    for raw in dist.requires or []:
        req = Requirement(raw)
        envs = [{"extra": e} for e in extras or {""}]
        if req.marker is None or any(req.marker.evaluate(env) for env in envs):
            out.add(canonicalize_name(req.name))
            out.update(f"{canonicalize_name(req.name)}[{x}]" for x in req.extras)
    return out


def _closure(start: set[str], installed: dict[str, md.Distribution]) -> set[str]:
    """Installed distributions reachable from ``start`` (``name`` or ``name[extra]``)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        item = todo.pop()
        name, _, extra = item.partition("[")
        extra = extra.rstrip("]")
        if item in seen or name not in installed:
            continue
        seen.add(item)
        todo.extend(_requires(installed[name], {extra} if extra else set()))
    return {s.partition("[")[0] for s in seen}


def _top_levels(dist: md.Distribution) -> set[str]:
    """First path components of a distribution's files inside site-packages."""
    return {
        f.parts[0] for f in dist.files or [] if f.parts and f.parts[0] not in ("..", "__pycache__")
    }


def hidden_entries() -> tuple[set[str], set[str], list[str]]:
    """(site-packages entries to hide, distributions hidden, their importable top-level names)."""
    installed = {canonicalize_name(d.metadata["Name"]): d for d in md.distributions()}
    project = installed[canonicalize_name(PROJECT)]
    extras = set(project.metadata.get_all("Provides-Extra") or []) - {EXTRA}
    without = _closure(_requires(project, extras), installed) | {canonicalize_name(PROJECT)}
    extra_only = _requires(project, {EXTRA}) - _requires(project, set())
    # what a fresh venv holds before anything is installed stays
    hidden = _closure(extra_only, installed) - without - {"pip", "setuptools"}
    if not hidden:
        raise SystemExit(f"the '{EXTRA}' extra is not installed here: nothing to hide")
    kept = set().union(*(_top_levels(installed[n]) for n in without if n in installed))
    entries = set().union(*(_top_levels(installed[n]) for n in hidden)) - kept
    modules = sorted(
        {e.removesuffix(".py") for e in entries if not e.endswith((".dist-info", ".pth", ".so"))}
    )
    return entries, hidden, modules


def build_shadow(entries: set[str]) -> Path:
    """The shadow venv (rebuilt each time: symlinks only); returns its interpreter."""
    if SHADOW.exists():
        shutil.rmtree(SHADOW)
    venv.EnvBuilder(with_pip=False, symlinks=True).create(SHADOW)
    python = SHADOW / "bin" / "python"
    target = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    sources = dict.fromkeys(
        Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")
    )
    for src in sources:
        for entry in sorted(src.iterdir()):
            if entry.name in entries or (target / entry.name).exists():
                continue
            os.symlink(entry, target / entry.name)
    return python


def main(argv: list[str]) -> int:
    """Build the shadow environment, check the extra is hidden, run mypy through it."""
    entries, hidden, modules = hidden_entries()
    python = build_shadow(entries)
    probe = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) for m in sys.argv[1:]))"
    if subprocess.run([python, "-c", probe, *modules], check=False).returncode != 0:
        print(f"shadow environment still imports one of {modules}", file=sys.stderr)
        return 2
    print(f"mypy without the '{EXTRA}' extra (hidden: {', '.join(sorted(hidden))})", flush=True)
    cmd = [sys.executable, "-m", "mypy", "--python-executable", str(python)]
    cmd += ["--cache-dir", str(CACHE), *argv]
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
