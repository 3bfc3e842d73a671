"""Read YAML files safely, keeping where every key and value stands.

The one module that imports yaml. ``load_yaml`` returns plain Python data plus
1-based positions for every JSON path, so later stages (schema, compile) can
point at the line and column of the value they complain about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kpi_rules.diagnostics import Diagnostic, InputError

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

JsonPath = tuple  # of str keys and int indexes


@dataclass(frozen=True)
class Document:
    """One YAML file's data and the positions of its nodes."""

    path: str
    data: Any
    value_positions: dict[JsonPath, tuple[int, int]] = field(repr=False)
    key_positions: dict[JsonPath, tuple[int, int]] = field(repr=False)

    def position(self, json_path: JsonPath, *, key: bool = False) -> tuple[int, int]:
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
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Diagnostic(str(path), None, None, "KR001", "file not found")]) from None
    except IsADirectoryError:
        raise InputError([Diagnostic(str(path), None, None, "KR001", "is a folder, expected a file")]) from None
    except UnicodeDecodeError as error:
        raise InputError(
            [Diagnostic(str(path), None, None, "KR001", f"not UTF-8 text (byte {error.start}): save it as UTF-8")]
        ) from None
    except OSError as error:
        raise InputError([Diagnostic(str(path), None, None, "KR001", f"cannot read: {error.strerror}")]) from None


def load_yaml(path: Path) -> Document:
    """Parse one YAML file; syntax errors and duplicate keys raise ``InputError``."""
    return parse_yaml(read_text(path), str(path))


def parse_yaml(text: str, display_path: str) -> Document:
    loader = Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = error.problem or error.context or "invalid YAML"
        raise InputError([Diagnostic(display_path, line, column, "KR002", f"YAML syntax error: {problem}")]) from None
    except yaml.YAMLError as error:
        raise InputError([Diagnostic(display_path, None, None, "KR002", f"YAML syntax error: {error}")]) from None
    finally:
        loader.dispose()

    value_positions: dict[JsonPath, tuple[int, int]] = {}
    key_positions: dict[JsonPath, tuple[int, int]] = {}
    problems: list[Diagnostic] = []

    def position(node: yaml.Node) -> tuple[int, int]:
        return (node.start_mark.line + 1, node.start_mark.column + 1)

    def build(node: yaml.Node, json_path: JsonPath) -> Any:
        value_positions[json_path] = position(node)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    problems.append(Diagnostic(display_path, *position(key_node), "KR002", "a key must be a plain value"))
                    continue
                key = build_scalar(key_node)
                if key in result:
                    first_line, _ = key_positions[json_path + (key,)]
                    problems.append(
                        Diagnostic(
                            display_path, *position(key_node), "KR003",
                            f'duplicate key "{key}" (first defined on line {first_line})',
                        )
                    )
                    continue
                key_positions[json_path + (key,)] = position(key_node)
                result[key] = build(value_node, json_path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, json_path + (index,)) for index, item in enumerate(node.value)]
        return build_scalar(node)

    def build_scalar(node: yaml.ScalarNode) -> Any:
        try:
            return yaml.SafeLoader.construct_object(_SCALAR_CONSTRUCTOR, node)
        except yaml.constructor.ConstructorError as error:
            problems.append(Diagnostic(display_path, *position(node), "KR002", f"YAML value error: {error.problem}"))
            return None

    data = build(root, ()) if root is not None else None
    if problems:
        raise InputError(problems)
    return Document(display_path, data, value_positions, key_positions)


_SCALAR_CONSTRUCTOR = yaml.SafeLoader("")
