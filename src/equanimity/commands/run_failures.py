"""Foreseeable failures of ``equanimity run``, each told in two lines: the cause, then the fix.

A missing key or package, an unknown provider, a local server that is not listening, a rate
limit that outlasted the retries, calls that time out, a key the provider rejects, a run whose
samples all errored: none of these is a bug, so none gets a traceback. :class:`RunFailure` is
a ``ValueError``, so the CLI prints it as ``equanimity: error: ...`` and exits 2.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from inspect_ai.log import EvalLog

OFFLINE_HINT = "(or run offline: --model equanimity/local)"
"""The offline alternative named in fixes that need a key or a server."""

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
"""Host names that always mean this machine."""


class RunFailure(ValueError):
    """A foreseeable failure of a run: ``str()`` is the cause, a newline, and the fix."""

    def __init__(self, cause: str, fix: str) -> None:
        self.cause = cause
        """What went wrong, in one line."""
        self.fix = fix
        """What to do about it, in one line."""
        super().__init__(f"{cause}\n  fix: {fix}")


def plain_text(message: object) -> str:
    """A rich-markup message (as inspect's ``PrerequisiteError`` carries) as plain text."""
    from rich.text import Text

    text = message if isinstance(message, str) else str(message)
    try:
        return Text.from_markup(text).plain
    except Exception:  # markup that does not parse: show it as it is
        return text


def _one_line(text: str, limit: int = 240) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def env_var_name(model: str) -> str:
    """The prefix inspect reads a provider's ``*_API_KEY`` / ``*_BASE_URL`` under."""
    parts = model.split("/")
    service = parts[1] if parts[0] == "openai-api" and len(parts) > 2 else parts[0]
    return service.upper().replace("-", "_")


def failure_from_setup_error(exc: Exception, model: str) -> RunFailure | None:
    """The two-line failure for an error raised while building the model (or the eval).

    Returns ``None`` for errors that are not foreseeable set-up failures.
    """
    message = getattr(exc, "message", None)
    if type(exc).__name__ == "PrerequisiteError" and message is not None:
        return _prerequisite_failure(plain_text(message), model)
    text = str(exc)
    if "not recognized" in text and "Model API" in text:
        return RunFailure(
            f"{model}: unknown provider '{model.split('/')[0]}'",
            "use an inspect provider name (anthropic/..., openai/..., google/..., "
            "ollama/..., openai-api/SERVICE/...) " + OFFLINE_HINT,
        )
    return None


def _prerequisite_failure(text: str, model: str) -> RunFailure:
    body = " ".join(
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("ERROR: Unable to initialise")
    )
    body = body.removeprefix("ERROR:").strip()
    if "defined in the environment" in body:
        names = re.findall(r"[A-Z][A-Z0-9_]*_(?:API_KEY|TOKEN|KEY|BASE_URL)", body)
        first = names[0] if names else f"{env_var_name(model)}_API_KEY"
        return RunFailure(
            f"{model}: {body[0].lower() + body[1:]}",
            f"export {first}=... {OFFLINE_HINT}",
        )
    install = re.search(r"pip install [^\n]+", body)
    if install:
        cause = body[: install.start()].rstrip(" :").removesuffix("Install with").rstrip(" .:")
        return RunFailure(f"{model}: {cause}", install.group(0).strip())
    return RunFailure(f"{model}: {_one_line(body)}", OFFLINE_HINT)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (a server on it can be checked without a network)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def check_local_server(model: str, base_url: str | None, timeout: float = 2.0) -> None:
    """Raise :class:`RunFailure` when ``base_url`` is on this machine and nothing listens there.

    Remote hosts are not probed (a proxy may be in the way); their connection errors are
    told after the run by :func:`failure_from_log`.
    """
    if not base_url:
        return
    parts = urlsplit(base_url)
    host = parts.hostname
    if not host or not is_loopback(host):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    raise RunFailure(
        f"{model}: cannot reach the model server at {base_url} ({reason.lower()})",
        f"start the server, or set {env_var_name(model)}_BASE_URL to where it listens; "
        + OFFLINE_HINT,
    )


@dataclass(frozen=True)
class _Kind:
    pattern: str
    cause: str
    fix: str


ERROR_KINDS = (
    _Kind(
        r"APIConnectionError|ConnectError|Connection refused|ConnectionRefused|"
        r"Name or service not known|nodename nor servname|Network is unreachable",
        "cannot reach the model server{where}",
        "check the server or network (and {var}_BASE_URL); then re-run with --resume",
    ),
    _Kind(
        r"RateLimit|\b429\b|rate.?limit|Too Many Requests|overloaded",
        "the provider's rate limit was still hit after the retries",
        "lower --max-connections or raise --max-retries / --timeout, then re-run with --resume",
    ),
    _Kind(
        r"AuthenticationError|PermissionDenied|\b401\b|\b403\b|invalid.{0,20}api.?key|"
        r"Incorrect API key",
        "the provider rejected the API key",
        "check {var}_API_KEY (and that the key may use this model)",
    ),
    _Kind(
        r"InternalServerError|ServiceUnavailable|ServerError|Bad Gateway|\bHTTP 50[0-9]\b",
        "the provider kept returning server errors (HTTP 5xx) after the retries",
        "try again later or raise --max-retries; then re-run with --resume",
    ),
    _Kind(
        r"Timeout|timed out",
        "model calls timed out after the retries",
        "check the server, or raise --timeout / --max-retries; then re-run with --resume",
    ),
)
"""Provider errors recognised in an errored run, most specific first."""


def _error_texts(log: EvalLog) -> list[str]:
    """Each error's message with its traceback's exception lines (not the quoted source)."""
    errors = [log.error] if log.error is not None else []
    errors += [s.error for s in log.samples or [] if s.error is not None]
    return [f"{e.message}\n{_exception_lines(e.traceback)}" for e in errors]


def _exception_lines(traceback: str) -> str:
    """The ``Type: message`` lines of a (chained) traceback, without the quoted source."""
    return "\n".join(
        line
        for line in traceback.splitlines()
        if line and not line[0].isspace() and not line.startswith("Traceback (")
    )


def completed_samples(log: EvalLog) -> int:
    """Samples of the log that finished without an error."""
    return sum(1 for s in log.samples or [] if s.error is None)


def has_results(log: EvalLog) -> bool:
    """Whether any sample of the run finished (and so whether a summary can say anything)."""
    if log.samples is not None:
        return completed_samples(log) > 0
    return bool(log.results and log.results.completed_samples)


def failure_from_log(log: EvalLog, base_url: str | None = None) -> RunFailure | None:
    """The two-line failure of a finished run, or ``None`` when it has results to show.

    A run fails when inspect marked it ``error`` or when none of its samples finished.
    """
    if log.status not in ("success", "error") or (log.status == "success" and has_results(log)):
        return None
    samples = log.samples or []
    done = completed_samples(log)
    model = log.eval.model
    texts = _error_texts(log)
    where = f" at {base_url}" if base_url else ""
    counted = f"{len(samples) - done} of {len(samples)} samples errored"
    for kind in ERROR_KINDS:
        if any(re.search(kind.pattern, t, re.IGNORECASE) for t in texts):
            cause = kind.cause.format(where=where)
            return RunFailure(
                f"{model}: {cause} ({counted})",
                kind.fix.format(var=env_var_name(model)),
            )
    first = _one_line(_root_cause(log))
    return RunFailure(
        f"{model}: {counted}; first error: {first}",
        f"read the transcripts: inspect view --log-dir {_log_dir(log)}; "
        "--fail-on-error 0.1 tolerates a few errored samples",
    )


def _root_cause(log: EvalLog) -> str:
    """The first exception line of the run's (or first sample's) error: the root cause."""
    errors = [log.error] if log.error is not None else []
    errors += [s.error for s in log.samples or [] if s.error is not None]
    if not errors:
        return "no sample finished"
    lines = _exception_lines(errors[0].traceback).splitlines()
    causes = [ln for ln in lines if not ln.startswith(("The above", "During handling"))]
    return causes[0] if causes else errors[0].message


def _log_dir(log: EvalLog) -> str:
    location = str(log.location)
    return location.rsplit("/", 1)[0] if "/" in location else "."
