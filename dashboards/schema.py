"""Checks a dashboard JSON against the Grafana dashboard schema of the pinned SDK.

grafana-foundation-sdk ships no JSON Schema file: its schema is its generated model classes
(from Grafana's own CUE kinds), whose `from_json` decoders are lenient. So a dashboard is
checked strictly in two ways:

1. round trip: decode it with the SDK (`Dashboard.from_json`, with every panel and query
   plugin registered) and encode it again; a key the schema does not know is dropped by the
   decoder, so anything lost or changed on the way is a problem;
2. types: every attribute of every decoded model object must match its annotation in the
   SDK (str, numbers, enums, literals, lists, unions, nested models), including the
   thresholds, mappings and units set by field overrides, which the SDK keeps untyped.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import dashboard as schema

_OVERRIDE_DECODERS: dict[str, Any] = {
    "thresholds": schema.ThresholdsConfig,
    "color": schema.FieldColor,
}
_MAPPING_TYPES: dict[str, Any] = {
    "value": schema.ValueMap,
    "range": schema.RangeMap,
    "regex": schema.RegexMap,
    "special": schema.SpecialValueMap,
}


def schema_problems(dashboard: Mapping[str, Any]) -> list[str]:
    """What in `dashboard` the SDK's schema rejects: empty when it is valid."""
    register_default_plugins()
    model = schema.Dashboard.from_json(dict(dashboard))
    again = json.loads(json.dumps(model, cls=JSONEncoder))
    problems = _lost_or_changed(dashboard, again, "dashboard")
    problems += _type_problems(model, "dashboard")
    problems += _override_problems(dashboard)
    return problems


def _lost_or_changed(original: Any, again: Any, path: str) -> list[str]:
    if isinstance(original, Mapping):
        if not isinstance(again, Mapping):
            return [f"{path}: decoded as {type(again).__name__}, not an object"]
        problems = []
        for key, value in original.items():
            if key not in again:
                problems.append(f"{path}.{key}: not in the schema")
            else:
                problems += _lost_or_changed(value, again[key], f"{path}.{key}")
        return problems
    if isinstance(original, list):
        if not isinstance(again, list) or len(again) != len(original):
            return [f"{path}: the list did not survive decoding"]
        return [
            problem
            for index, (item, decoded) in enumerate(zip(original, again, strict=True))
            for problem in _lost_or_changed(item, decoded, f"{path}[{index}]")
        ]
    return [] if original == again else [f"{path}: {original!r} decoded as {again!r}"]


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _is_model(value: object) -> bool:
    return callable(getattr(value, "to_json", None)) and not isinstance(value, enum.Enum)


def _type_problems(model: object, path: str) -> list[str]:
    problems = []
    for name, hint in _hints(type(model)).items():
        problems += _check(getattr(model, name, None), hint, f"{path}.{name}")
    return problems


def _check(value: object, hint: Any, path: str) -> list[str]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _check_union(value, typing.get_args(hint), path)
    if origin is typing.Literal:
        return [] if value in typing.get_args(hint) else [_wrong(value, hint, path)]
    if origin is list:
        if not isinstance(value, list):
            return [_wrong(value, hint, path)]
        (item,) = typing.get_args(hint)
        return [p for i, v in enumerate(value) for p in _check(v, item, f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [_wrong(value, hint, path)]
        item = typing.get_args(hint)[1]
        return [p for k, v in value.items() for p in _check(v, item, f"{path}.{k}")]
    return _check_plain(value, hint, path)


def _check_union(value: object, arms: tuple[Any, ...], path: str) -> list[str]:
    outer_mismatch = f"{path}: "
    inner: list[list[str]] = []
    for arm in arms:
        problems = _check(value, arm, path)
        if not problems:
            return []
        if not (len(problems) == 1 and problems[0].startswith(outer_mismatch)):
            inner.append(problems)  # the right kind of value, wrong inside: say where
    if inner:
        return min(inner, key=len)
    return [_wrong(value, " | ".join(_name(arm) for arm in arms), path)]


def _check_plain(value: object, hint: Any, path: str) -> list[str]:
    if hint is typing.Any or hint is object:
        return _type_problems(value, path) if _is_model(value) else []
    if hint is type(None):
        return [] if value is None else [_wrong(value, hint, path)]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        # The SDK decodes enums as their raw values.
        allowed = {member.value for member in hint}
        return [] if value in allowed else [_wrong(value, hint, path)]
    if hint is bool:
        return [] if isinstance(value, bool) else [_wrong(value, hint, path)]
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [_wrong(value, hint, path)]
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [_wrong(value, hint, path)]
    if isinstance(hint, type) and isinstance(value, dict) and hasattr(hint, "from_json"):
        # The SDK's Panel decoder leaves a few lists (transformations, links) as plain JSON.
        return _decoded_problems(hint, value, path)
    if isinstance(hint, type):
        if not isinstance(value, hint):
            return [_wrong(value, hint, path)]
        return _type_problems(value, path) if _is_model(value) else []
    return []  # an annotation this check does not understand: the round trip still applies


def _decoded_problems(model_class: Any, value: Any, path: str) -> list[str]:
    decoded = model_class.from_json(value)
    again = json.loads(json.dumps(decoded, cls=JSONEncoder))
    return _lost_or_changed(value, again, path) + _type_problems(decoded, path)


def _override_problems(dashboard: Mapping[str, Any]) -> list[str]:
    problems = []
    for index, panel in enumerate(_all_panels(dashboard)):
        overrides = panel.get("fieldConfig", {}).get("overrides", [])
        for number, override in enumerate(overrides):
            for item in override.get("properties", []):
                path = f"panel {index} override {number} {item.get('id')}"
                problems += _override_value_problems(item.get("id"), item.get("value"), path)
    return problems


def _override_value_problems(key: object, value: Any, path: str) -> list[str]:
    if key in _OVERRIDE_DECODERS:
        return _decoded_problems(_OVERRIDE_DECODERS[str(key)], value, path)
    if key == "mappings":
        if not isinstance(value, list):
            return [_wrong(value, list, path)]
        return [p for i, m in enumerate(value) for p in _mapping_problems(m, f"{path}[{i}]")]
    if key in ("unit", "displayName"):
        return [] if isinstance(value, str) else [_wrong(value, str, path)]
    return []


def _mapping_problems(mapping: Any, path: str) -> list[str]:
    kind = mapping.get("type") if isinstance(mapping, dict) else None
    if kind not in _MAPPING_TYPES:
        return [f"{path}: not a value mapping: {mapping!r}"]
    return _decoded_problems(_MAPPING_TYPES[kind], mapping, path)


def _all_panels(dashboard: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found += panel.get("panels", [])
    return found


def _wrong(value: object, hint: object, path: str) -> str:
    return f"{path}: {value!r:.80} is not {_name(hint)}"


def _name(hint: object) -> str:
    return getattr(hint, "__name__", None) or str(hint)
