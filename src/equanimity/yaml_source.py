"""Safe YAML loading that remembers where every value came from.

Used for every user-written YAML file (scenarios, policies, lexicons) so that a validation error
can name the file, the line and the field. Only plain YAML is accepted: custom tags, anchors and
aliases (the classic "billion laughs" bomb), merge keys, list or mapping keys, duplicate keys,
control characters, invalid UTF-8 and oversized files are rejected with a one-line error rather
than expanded or constructed; so is a scalar PyYAML cannot build (``2020-13-01``, ``!!int x``).
Property-based tests of all of this: ``tests/test_fuzz_yaml.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

MAX_FILE_BYTES = 256_000
"""Largest YAML file accepted (bytes). The largest shipped file is under 20 kB; pure-Python
PyYAML needs about 20 s for a 1 MB file of short list items, 5 s at this limit."""

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings accepted (shipped files nest at most 4 levels)."""

Location = tuple[str | int, ...]


class SourceError(ValueError):
    """A problem in a user-written file, located by file, line and field."""

    def __init__(self, path: str | Path, line: int | None, field_path: str | None, message: str):
        self.path = str(path)
        self.line = line
        self.field = field_path
        self.message = " ".join(message.split())
        where = self.path if line is None else f"{self.path}:{line}"
        what = f" {field_path}:" if field_path else ""
        super().__init__(f"{where}:{what} {self.message}")


@dataclass
class YamlDocument:
    """A parsed YAML document plus the line (1-based) of every key and item in it."""

    path: str
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Line of the deepest existing prefix of ``loc`` (None if not even the root is known)."""
        parts = tuple(loc)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.lines.get(())

    def error_from_validation(self, exc: ValidationError, prefix: Location = ()) -> SourceError:
        """Turn the first pydantic error into a located, one-line :class:`SourceError`."""
        err = exc.errors()[0]
        loc = prefix + tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        # pydantic puts union/tagged member names into loc; keep only real keys and indexes
        real = _real_location(self.data, loc)
        field_path = ".".join(str(p) for p in real) or None
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'"
        return SourceError(self.path, self.line_of(real), field_path, msg)


def _real_location(data: Any, loc: Location) -> Location:
    out: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif (
            isinstance(node, dict)
            and isinstance(part, str)
            and out[-1:] != [part]
            and part.isidentifier()
            and part not in ("str", "int", "float", "bool", "list")
        ):
            # a missing required key: name it, it has no line of its own
            out.append(part)
            node = None
    return tuple(out)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases (no expansion bombs) and deep nesting."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases are not allowed", problem_mark=event.start_mark
            )
        event = self.peek_event()  # type: ignore[no-untyped-call]
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases are not allowed", problem_mark=event.start_mark
            )
        if self._depth >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"nesting deeper than {MAX_DEPTH} levels", problem_mark=event.start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Construct one node; a bad scalar (``2020-13-01``, ``!!int abc``) is a located error."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError, AttributeError, LookupError) as exc:
            # PyYAML's scalar constructors raise plain errors: ValueError for `2020-13-01` or
            # `!!int abc`, AttributeError for `!!timestamp abc`
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"invalid {node.tag.rsplit(':', 1)[-1]} value ({exc})",
                node.start_mark,
            ) from None


def _walk(
    loader: _StrictLoader, node: yaml.Node, loc: Location, lines: dict[Location, int], path: str
) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError(
                    path,
                    line,
                    ".".join(map(str, loc)) or None,
                    "a key must be a plain value, not a list or mapping",
                )
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise SourceError(
                    path, line, ".".join(map(str, loc)) or None, "merge keys ('<<') are not allowed"
                )
            # compare constructed keys: `1` and `'1'` differ, `yes` and `true` are the same
            key: Any = loader.construct_object(key_node)
            if key in seen:
                raise SourceError(path, line, ".".join(map(str, (*loc, key))), "duplicate key")
            seen.add(key)
            lines[(*loc, key)] = line
            _walk(loader, value_node, (*loc, key), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            _walk(loader, item, (*loc, i), lines, path)


def parse_yaml(text: str | bytes, path: str | Path) -> YamlDocument:
    """Parse one YAML document safely, recording line numbers; raise :class:`SourceError`."""
    spath = str(path)
    if isinstance(text, bytes):
        raw = text
        if len(raw) > MAX_FILE_BYTES:
            raise SourceError(spath, None, None, f"file is larger than {MAX_FILE_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad_line = raw[: exc.start].count(b"\n") + 1
            raise SourceError(spath, bad_line, None, "file is not valid UTF-8") from None
    if len(text) > MAX_FILE_BYTES:
        raise SourceError(spath, None, None, f"file is larger than {MAX_FILE_BYTES} bytes")
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)  # the reader checks every character here
        node = loader.get_single_node()
        if node is None:
            raise SourceError(spath, 1, None, "file is empty")
        lines: dict[Location, int] = {}
        _walk(loader, node, (), lines, spath)
        data = loader.construct_document(node)
    except yaml.reader.ReaderError as exc:
        char_line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SourceError(
            spath, char_line, None, f"invalid YAML: control character #x{char:04x} is not allowed"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SourceError(spath, line, None, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SourceError(spath, None, None, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise SourceError(spath, None, None, "invalid YAML: nesting too deep") from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(spath, data, lines)


def read_yaml(path: str | Path) -> YamlDocument:
    """Read and parse a YAML file; any problem is a :class:`SourceError` naming the file."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(p, None, None, f"file is larger than {MAX_FILE_BYTES} bytes")
        raw = p.read_bytes()
    except OSError as exc:
        raise SourceError(p, None, None, f"cannot read file: {exc.strerror}") from None
    return parse_yaml(raw, p)
