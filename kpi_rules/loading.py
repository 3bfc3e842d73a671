"""Read YAML files safely, keeping where every key and value stands.

The one module that imports yaml. ``load_yaml`` returns plain Python data plus
1-based positions for every JSON path, so later stages (schema, compile) can
point at the line and column of the value they complain about.

Hostile YAML is refused (KR006) in bounded time and memory: a file over the size
limit is not read, and the data is built from the parser's events in one loop,
without recursion, that counts nesting, nodes and what aliases expand to.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import GeneratorType
from typing import Any, NoReturn

import yaml

from kpi_rules.diagnostics import Diagnostic, InputError

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

JsonPath = tuple  # of str keys and int indexes
Position = tuple[int, int]  # line and column, 1-based

MAX_FILE_BYTES = 10 * 2**20  # a playbook or client file is kilobytes; YAML data files fit too
MAX_DEPTH = 100  # lists and mappings in each other, aliases expanded; a playbook needs 5
MAX_NODES = 1_000_000  # keys, values, lists and mappings, aliases expanded: at most 300 MB and 20 s
MAX_ALIAS_NODES = 100_000  # what all of a file's aliases expand to: an alias bomb passes it within lines


@dataclass(frozen=True)
class Document:
    """One YAML file's data and the positions of its nodes."""

    path: str
    data: Any
    value_positions: dict[JsonPath, Position] = field(repr=False)
    key_positions: dict[JsonPath, Position] = field(repr=False)

    def position(self, json_path: JsonPath, *, key: bool = False) -> Position:
        """Line and column of the node at ``json_path``, or of its closest parent."""
        positions = self.key_positions if key else self.value_positions
        for cut in range(len(json_path), -1, -1):
            prefix = tuple(json_path[:cut])
            if prefix in positions:
                return positions[prefix]
            if prefix in self.value_positions:
                return self.value_positions[prefix]
        return (1, 1)

    def diagnostic(self, json_path: JsonPath, code: str, message: str, *, key: bool = False) -> Diagnostic:
        line, column = self.position(json_path, key=key)
        return Diagnostic(self.path, line, column, code, message)


def read_text(path: Path) -> str:
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            # A pipe or a device: opening it could wait forever (a FIFO) or never end (/dev/zero).
            raise InputError([Diagnostic(str(path), None, None, "KR001", "is not a regular file")])
        with path.open("rb") as file:
            content = file.read(MAX_FILE_BYTES + 1)  # no more: a huge file (or /dev/zero) is refused unread
    except FileNotFoundError:
        raise InputError([Diagnostic(str(path), None, None, "KR001", "file not found")]) from None
    except IsADirectoryError:
        raise InputError([Diagnostic(str(path), None, None, "KR001", "is a folder, expected a file")]) from None
    except OSError as error:
        raise InputError([Diagnostic(str(path), None, None, "KR001", f"cannot read: {error.strerror}")]) from None
    if len(content) > MAX_FILE_BYTES:
        message = f"larger than {MAX_FILE_BYTES // 2**20} MB: kpi-rules reads YAML files up to that size"
        raise InputError([Diagnostic(str(path), None, None, "KR006", message)])
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start}): save it as UTF-8"
        raise InputError([Diagnostic(str(path), None, None, "KR001", message)]) from None


def load_yaml(path: Path) -> Document:
    """Parse one YAML file; syntax errors, duplicate keys and files over a limit raise ``InputError``."""
    return parse_yaml(read_text(path), str(path))


def parse_yaml(text: str, display_path: str) -> Document:
    loader = Loader(text)
    builder = _Builder(display_path)
    try:
        builder.read(loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = error.problem or error.context or "invalid YAML"
        raise InputError([Diagnostic(display_path, line, column, "KR002", f"YAML syntax error: {problem}")]) from None
    except yaml.reader.ReaderError as error:
        # A character YAML does not allow (a control character): the reader knows only its offset.
        before = text[: error.position]
        line, column = before.count("\n") + 1, error.position - (before.rfind("\n") + 1) + 1
        message = f"YAML syntax error: character {error.character:#x} is not allowed in YAML ({error.reason})"
        raise InputError([Diagnostic(display_path, line, column, "KR002", message)]) from None
    except yaml.YAMLError as error:
        raise InputError([Diagnostic(display_path, None, None, "KR002", f"YAML syntax error: {error}")]) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise InputError(builder.problems)
    return Document(display_path, builder.data, builder.values, builder.keys)


_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@lru_cache(maxsize=4096)  # keys and repeated values are resolved and built once
def _scalar_value(text: str, tag: str | None, implicit: tuple[bool, bool]) -> tuple[Any, str | None]:
    """A scalar's value, or None and what is wrong with it."""
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, text, implicit)
    if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
        # Dates stay as written: kpi-rules reads them itself (periods, waivers), with its own messages.
        return text, None
    try:
        construct = _CONSTRUCTOR.yaml_constructors.get(tag, _CONSTRUCTOR.yaml_constructors[None])  # None: unknown tag
        value = construct(_CONSTRUCTOR, yaml.ScalarNode(tag, text))
        if isinstance(value, (GeneratorType, set)):  # a !!map, !!seq or !!set tag on a plain value
            raise ValueError
        return value, None  # immutable: the cache may hand it to every occurrence
    except yaml.constructor.ConstructorError as error:
        return None, error.problem
    except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError):  # PyYAML's own, on a bad value
        return None, f'"{text}" is not a valid {tag.rpartition(":")[2]}'


_NO_KEY = object()  # a mapping waiting for its next key
_BAD_KEY = object()  # a key refused (not a plain value, or a duplicate): its value is read and dropped


@dataclass
class _Open:
    """A list or mapping whose items are still arriving."""

    value: list | dict
    path: JsonPath | None  # None inside a key or a dropped value: no JSON path leads there
    position: Position
    anchor: str | None
    nodes_before: int
    height: int = 1  # levels of lists and mappings, itself included
    key: Any = _NO_KEY


class _Builder:
    """Plain data and positions from the parser's events, limits checked as they arrive.

    Not PyYAML's composer: it recurses (the C one until the interpreter crashes), and data built from
    the node it shares between an anchor and its aliases expands a bomb uncounted, a recursive alias forever.
    """

    def __init__(self, display_path: str) -> None:
        self.display_path = display_path
        self.data: Any = None
        self.values: dict[JsonPath, Position] = {}
        self.keys: dict[JsonPath, Position] = {}
        self.problems: list[Diagnostic] = []
        self.stack: list[_Open] = []
        # anchor -> (value, nodes, height): what an alias to it copies; None while the anchored node is open
        self.anchors: dict[str, tuple[Any, int, int] | None] = {}
        self.nodes = 0  # built so far, aliases expanded
        self.alias_nodes = 0

    def read(self, loader) -> None:
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return  # an empty file
        loader.get_event()  # document start
        while not isinstance(event := loader.get_event(), yaml.DocumentEndEvent):
            position = (event.start_mark.line + 1, event.start_mark.column + 1)
            if isinstance(event, yaml.ScalarEvent):
                self.scalar(event, position)
            elif isinstance(event, yaml.AliasEvent):
                self.alias(event.anchor, position)
            elif isinstance(event, yaml.CollectionStartEvent):
                self.open(event, position)
            else:
                self.close()
        if not loader.check_event(yaml.StreamEndEvent):
            mark = loader.get_event().start_mark
            message = "YAML syntax error: expected one document, found another"
            self.refuse("KR002", message, (mark.line + 1, mark.column + 1))

    def scalar(self, event: yaml.ScalarEvent, position: Position) -> None:
        self.start(position, event.anchor)
        build = _scalar_value if len(event.value) <= 64 else _scalar_value.__wrapped__  # the cache keeps short ones
        value, problem = build(event.value, event.tag, event.implicit)
        if problem:
            self.problems.append(Diagnostic(self.display_path, *position, "KR002", f"YAML value error: {problem}"))
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, 0)
        self.place(value, position, 1, 0)

    def open(self, event: yaml.CollectionStartEvent, position: Position) -> None:
        if len(self.stack) + 1 > MAX_DEPTH:
            self.refuse("KR006", f"lists and mappings nested more than {MAX_DEPTH} deep", position)
        value = [] if isinstance(event, yaml.SequenceStartEvent) else {}
        self.stack.append(_Open(value, self.start(position, event.anchor), position, event.anchor, self.nodes))

    def close(self) -> None:
        done = self.stack.pop()
        if done.anchor:
            self.anchors[done.anchor] = (done.value, self.nodes + 1 - done.nodes_before, done.height)
        self.place(done.value, done.position, 1, done.height)

    def alias(self, name: str, position: Position) -> None:
        if name not in self.anchors:
            self.refuse("KR002", f"YAML syntax error: alias *{name} has no anchor &{name} before it", position)
        if self.anchors[name] is None:
            self.refuse("KR006", f"alias *{name} is used inside its own anchor: it would expand forever", position)
        value, nodes, height = self.anchors[name]
        self.alias_nodes += nodes
        if self.alias_nodes > MAX_ALIAS_NODES:
            self.refuse("KR006", f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes", position)
        if len(self.stack) + height > MAX_DEPTH:
            self.refuse("KR006", f"lists and mappings nested more than {MAX_DEPTH} deep", position)
        self.start(position, None)  # what is inside the copy points at the alias
        self.place(copy.deepcopy(value), position, nodes, height)  # recursion no deeper than MAX_DEPTH

    def start(self, position: Position, anchor: str | None) -> JsonPath | None:
        """Record a node starting at ``position``: its anchor, opened, and its JSON path, returned."""
        if anchor in self.anchors:
            self.refuse("KR002", f"YAML syntax error: anchor &{anchor} defined twice", position)
        if anchor:
            self.anchors[anchor] = None
        path: JsonPath | None = ()
        if self.stack:
            parent = self.stack[-1]
            if parent.path is None or (isinstance(parent.value, dict) and parent.key in (_NO_KEY, _BAD_KEY)):
                return None  # a key's own position is recorded when it is placed
            path = parent.path + ((len(parent.value),) if isinstance(parent.value, list) else (parent.key,))
        self.values[path] = position
        return path

    def place(self, value: Any, position: Position, nodes: int, height: int) -> None:
        """Count a finished node and put it in the list or mapping around it: as an item, a key or a value."""
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            self.refuse("KR006", f"more than {MAX_NODES:,} nodes (keys, values, lists and mappings)", position)
        if not self.stack:
            self.data = value
            return
        parent = self.stack[-1]
        parent.height = max(parent.height, height + 1)
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.key is _NO_KEY:
            parent.key = self.key(parent, value, position, height)
        else:
            if parent.key is not _BAD_KEY:
                parent.value[parent.key] = value
            parent.key = _NO_KEY

    def key(self, parent: _Open, key: Any, position: Position, height: int) -> Any:
        if height:
            self.problems.append(Diagnostic(self.display_path, *position, "KR002", "a key must be a plain value"))
            return _BAD_KEY
        if parent.path is None:
            return key
        if key in parent.value:
            first_line, _ = self.keys[parent.path + (key,)]
            message = f'duplicate key "{key}" (first defined on line {first_line})'
            self.problems.append(Diagnostic(self.display_path, *position, "KR003", message))
            return _BAD_KEY
        self.keys[parent.path + (key,)] = position
        return key

    def refuse(self, code: str, message: str, position: Position) -> NoReturn:
        """Stop reading: the rest of a file over a limit, or with a broken alias, is not worth building."""
        raise InputError([*self.problems, Diagnostic(self.display_path, *position, code, message)])
