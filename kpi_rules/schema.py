"""Validate loaded YAML documents against the JSON Schemas in schemas/.

Shape only (types, required and unknown keys); meaning is checked by compile.
Every error is collected, best match first, and mapped back to the line and
column of the offending key or value.
"""

from __future__ import annotations

import json
from functools import cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance
from referencing import Registry, Resource

from kpi_rules.diagnostics import Diagnostic, did_you_mean
from kpi_rules.loading import Document
from kpi_rules.resources import schema_path

SCHEMA_KINDS = ("playbook", "client", "preset", "scorecard", "test")
LANGUAGE_CODE = "^[a-z]{2}$"


@cache
def _registry() -> Registry:
    resources = []
    for kind in SCHEMA_KINDS:
        schema = load_schema(kind)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@cache
def load_schema(kind: str) -> dict:
    return json.loads(schema_path(kind).read_text(encoding="utf-8"))


@cache
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(kind), registry=_registry())


def validate_document(document: Document, kind: str) -> list[Diagnostic]:
    """Every schema problem of ``document`` as diagnostics, most relevant first."""
    errors = sorted(validator(kind).iter_errors(document.data), key=relevance)
    diagnostics = []
    for error in errors:
        diagnostics.extend(_to_diagnostics(document, error))
    return diagnostics


def _to_diagnostics(document: Document, error: ValidationError) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    if error.validator in ("anyOf", "oneOf") and error.context:
        meant = _meant_alternative(error)
        if meant:
            return [d for e in meant for d in _to_diagnostics(document, e)]
        return [document.diagnostic(path, "KR103", f"{_where(path)}{_describe_any_of(error)}")]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        return [
            document.diagnostic(
                path + (key,), "KR101", f'unknown key "{key}"{_where_in(path)}{did_you_mean(str(key), known)}', key=True
            )
            for key in error.instance
            if key not in known
        ]
    if error.validator == "required":
        return [
            document.diagnostic(path, "KR102", f'missing required key "{key}"{_where_in(path)}')
            for key in error.validator_value
            if key not in error.instance
        ]
    if "propertyNames" in error.schema_path:
        name = error.instance
        language_codes = error.validator_value == LANGUAGE_CODE
        expected = "a language code such as en, ru or pl" if language_codes else "a valid id: use lowercase letters, digits and _"
        return [document.diagnostic(path + (name,), "KR103", f'"{name}"{_where_in(path)} is not {expected}', key=True)]
    return [document.diagnostic(path, "KR103", f"{_where(path)}{_describe(error)}")]


def _meant_alternative(error: ValidationError) -> list[ValidationError]:
    """The errors of the alternative the user evidently meant: the one of the value's type, else the deepest."""
    branches: dict[int, list[ValidationError]] = {}
    for sub_error in error.context:
        branches.setdefault(sub_error.relative_schema_path[0], []).append(sub_error)
    of_this_type = [b for b in branches if _JSON_TYPES.get(error.validator_value[b].get("type")) == type(error.instance)]
    if len(of_this_type) == 1:
        return branches[of_this_type[0]]
    deepest = max(error.context, key=lambda e: len(e.absolute_path))
    if len(deepest.absolute_path) > len(error.absolute_path):
        return branches[deepest.relative_schema_path[0]]
    return []


_JSON_TYPES = {"object": dict, "array": list, "string": str}


def _describe(error: ValidationError) -> str:
    value = error.instance
    shown = _shown(value)
    match error.validator:
        case "type":
            expected = error.validator_value
            expected = " or ".join(expected) if isinstance(expected, list) else expected
            if not error.absolute_path:
                # The whole file is not a mapping: whatever file it is, its content is not shown (a CI log is public).
                found = {str: "text", list: "a list", dict: "a mapping"}.get(type(value), "nothing" if value is None else "a number")
                return f"is not a kpi-rules file: expected {_article(expected)} of keys at the top, got {found}"
            return f"expected {_article(expected)}, got {shown}"
        case "enum":
            options = [str(option) for option in error.validator_value]
            return f"{shown} is not one of {', '.join(options)}{did_you_mean(str(value), options)}"
        case "const":
            return f"must be {json.dumps(error.validator_value)}, got {shown}"
        case "minItems":
            return "must not be empty"
        case "uniqueItems":
            return "lists the same item twice"
        case "minLength":
            return "must not be empty"
        case "maxLength":
            return f"must be at most {error.validator_value} character(s), got {shown}"
        case "pattern":
            return f"{shown} is not a valid id: use lowercase letters, digits and _"
        case "minProperties":
            return "must not be empty"
    return error.message


def _describe_any_of(error: ValidationError) -> str:
    kinds = sorted({_option_name(option) for option in error.validator_value})
    return f"expected {' or '.join(kinds)}, got {_shown(error.instance)}"


def _option_name(option: dict) -> str:
    if "enum" in option:
        return " or ".join(json.dumps(value) for value in option["enum"])
    return _article(str(option.get("type", "value")))


def _shown(value: object, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _article(json_type: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false", "null": "nothing"}
    return names.get(json_type, json_type)


def _where(path: tuple) -> str:
    return f"{_dotted(path)}: " if path else ""


def _where_in(path: tuple) -> str:
    return f" in {_dotted(path)}" if path else ""


def _dotted(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
