"""What ``equanimity run`` shows of inspect's console display.

inspect 0.3.285 has no option to skip the panel its displays print when a task ends (every
metric of every scorer: ~60 lines of truncated names and ``nan`` for this suite's 24 score
keys): ``display="plain"``, ``"full"`` and ``"rich"`` all print it, ``"log"`` and ``"none"``
also drop the progress lines. The plain and full displays print that panel as one
``rich.console.Group`` (``rich.print(tasks_results(...))``; the rich display, which "full" falls
back to without a terminal, makes that Group its live display), while the start-of-task header,
the progress lines and log records are not Groups. So ``equanimity run`` keeps inspect's
display and drops only that Group, through rich's public render-hook API on the console
inspect prints to; equanimity's own summary (with the log path, time and tokens the panel
held) is printed afterwards.

The hook is installed from inspect's public hooks API (``on_task_start``), because each
display re-creates the global rich console when it starts (``rich.reconfigure``), which
drops any render hook pushed before the eval. The inspect hook is registered only when the
first block starts (after the model is built): inspect prints an "inspect_ai vX - hooks
enabled" banner when hooks are registered by the time it first builds a model, and
``inspect eval`` should never see this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import rich
from inspect_ai.hooks import Hooks, TaskStart, hooks
from rich.console import ConsoleRenderable, Group, RenderHook


class DropResultsPanel(RenderHook):
    """A rich render hook that drops the end-of-task results panel (a ``Group``)."""

    def __init__(self) -> None:
        self.dropped = 0
        """How many panels were dropped (for tests and diagnostics)."""
        self.installed = False
        """Whether the hook was pushed onto the console inspect prints to."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        """Everything printed, less the results ``Group`` (printed, or as a live display)."""
        kept = [r for r in renderables if not _is_results(r)]
        self.dropped += len(renderables) - len(kept)
        return kept


def _is_results(renderable: object) -> bool:
    # plain and full displays print the Group; the rich display makes it the content of
    # its live display (a rich LiveRender, whose ``renderable`` is the Group)
    inner = getattr(renderable, "renderable", None)
    return isinstance(renderable, Group) or isinstance(inner, Group)


_ACTIVE: list[DropResultsPanel] = []
"""The hook of the ``without_results_panel`` block in progress (empty outside one)."""


class ResultsPanelHooks(Hooks):
    """Installs the active :class:`DropResultsPanel` once inspect's display has started."""

    def enabled(self) -> bool:
        """Only inside :func:`without_results_panel` (never for ``inspect eval``)."""
        return bool(_ACTIVE)

    async def on_task_start(self, data: TaskStart) -> None:
        """Push the hook onto the console the display now prints to (once per block)."""
        hook = _ACTIVE[-1]
        if not hook.installed:
            rich.get_console().push_render_hook(hook)
            hook.installed = True


_REGISTERED: list[type[Hooks]] = []


def _register_once() -> None:
    if not _REGISTERED:
        _REGISTERED.append(
            hooks(
                name="equanimity_results_panel",
                description="equanimity run: hide inspect's final metrics panel",
            )(ResultsPanelHooks)
        )


@contextmanager
def without_results_panel() -> Iterator[DropResultsPanel]:
    """Within the block, inspect's final metrics panel is not printed (progress still is)."""
    _register_once()
    hook = DropResultsPanel()
    _ACTIVE.append(hook)
    try:
        yield hook
    finally:
        _ACTIVE.remove(hook)
        if hook.installed:
            with suppress(IndexError):
                rich.get_console().pop_render_hook()
