"""Turn command-line strings into the numbers and booleans the config schema asks for.

Snakemake parses a nested ``--config`` value with YAML's BaseLoader, so every leaf arrives as
a string: ``--config 'adapt={k: 0.6}'`` gives ``{"adapt": {"k": "0.6"}}`` and validation would
reject ``'0.6' is not of type 'number'``. Users type numbers; the schema says where a number,
an integer, a boolean or null belongs, so strings are converted there (and only there) before
validation. A string the schema also accepts as a string (``eps: auto``) is left alone, and a
string that converts to nothing the schema allows stays a string for validation to report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

_INT = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_NULL = {"null", "none", "~", ""}


def coerce_config(config: MutableMapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Convert, in place, the string leaves of ``config`` that the schema wants typed.

    In place because Snakemake's ``config`` object is shared by every rule file.
    """
    for key in list(config):
        sub = _property_schema(schema, key, schema)
        if sub is not None:
            config[key] = coerce_value(config[key], sub, schema)


def coerce_value(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """``value`` converted where ``schema`` (resolved against ``root``) wants a typed leaf."""
    schema = _resolve(schema, root)
    if isinstance(value, Mapping):
        return {
            key: coerce_value(item, sub, root) if sub is not None else item
            for key, item in value.items()
            for sub in [_property_schema(schema, key, root)]
        }
    if isinstance(value, list):
        return [
            coerce_value(item, sub, root) if sub is not None else item
            for index, item in enumerate(value)
            for sub in [_item_schema(schema, index, root)]
        ]
    if isinstance(value, str):
        return _coerce_string(value, schema, root)
    return value


def _coerce_string(value: str, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    branches = _branches(schema, root)
    if any(_accepts_string(branch, value) for branch in branches):
        return value
    types = {t for branch in branches for t in _types(branch)}
    text = value.strip()
    lowered = text.lower()
    if "boolean" in types and lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    if "integer" in types and _INT.match(text):
        return int(text)
    if "number" in types:
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None and math.isfinite(number):
            return number
    if "null" in types and lowered in _NULL:
        return None
    return value


def _accepts_string(schema: Mapping[str, Any], value: str) -> bool:
    """Whether this (non-union) schema branch takes ``value`` as a string as it is."""
    if "string" not in _types(schema):
        return False
    if "enum" in schema:
        return value in schema["enum"]
    return not (pattern := schema.get("pattern")) or re.search(pattern, value) is not None


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return set()
    return {kind} if isinstance(kind, str) else set(kind)


def _branches(schema: Mapping[str, Any], root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The alternatives of a schema: itself and each ``oneOf``/``anyOf`` branch, resolved."""
    out = [schema]
    for key in ("oneOf", "anyOf"):
        for branch in schema.get(key, []):
            out += _branches(_resolve(branch, root), root)
    return out


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local ``$ref``s (``#/definitions/...``) as the shipped schema uses them."""
    seen = 0
    while "$ref" in schema and str(schema["$ref"]).startswith("#/") and seen < 20:
        node: Any = root
        for part in str(schema["$ref"])[2:].split("/"):
            node = node[part]
        schema, seen = node, seen + 1
    return schema


def _property_schema(
    schema: Mapping[str, Any], key: str, root: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    for branch in _branches(_resolve(schema, root), root):
        if key in branch.get("properties", {}):
            return branch["properties"][key]
        extra = branch.get("additionalProperties")
        if isinstance(extra, Mapping):
            return extra
    return None


def _item_schema(
    schema: Mapping[str, Any], index: int, root: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    for branch in _branches(_resolve(schema, root), root):
        prefix = branch.get("prefixItems", [])
        if index < len(prefix):
            return prefix[index]
        items = branch.get("items")
        if isinstance(items, Mapping):
            return items
    return None
