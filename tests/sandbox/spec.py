"""The vendor's OpenAPI spec as JSON Schemas, for checking the sandbox's bodies.

The YAML is 1 MB, so it is parsed once per test session. The spec is OpenAPI-3.0 flavoured
(`nullable: true`) and inlines every schema, so converting `nullable` is all the resolving
jsonschema needs.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SPEC_PATH = Path(__file__).parents[2].parent / "shared/reference/dsco-api-v3-openapi.yaml"

ORDER_REASONS_TITLE = "OrderEventTypes"


@functools.cache
def spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> JSON Schema `type: [t, "null"]` (and None in enums)."""
    if isinstance(schema, list):
        return [_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items()}
    if isinstance(out.get("pattern"), str):
        # The spec's YAML escapes its regexes twice (`\\\\d` for `\\d`); undo that, or no
        # valid UPC/EAN could ever match.
        out["pattern"] = out["pattern"].replace("\\\\", "\\")
    if out.get("title") == "OrderLineItemActivity" and out.get("required") == ["activity"]:
        # Erratum: the spec requires a property `activity` it never defines; `action` is meant.
        out["required"] = ["action"]
    if out.pop("nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def operation(path: str, method: str) -> dict[str, Any]:
    return spec()["paths"][path][method]


@functools.cache
def _response_schema(path: str, method: str, status: str) -> dict[str, Any]:
    content = operation(path, method)["responses"][status]["content"]
    return _nullable(next(iter(content.values()))["schema"])


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    return copy.deepcopy(_response_schema(path, method, str(status)))


def validate(body: Any, schema: dict[str, Any]) -> None:
    # No check_schema(): it costs seconds on these large inline schemas and the spec is fixed.
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(body)
    )
    if error is not None:
        raise error


def check(response: Any, path: str, method: str, status: int) -> Any:
    """Assert the status code and validate the JSON body against the spec; return the body."""
    assert response.status_code == status, response.text
    body = response.json()
    validate(body, _response_schema(path, method, str(status)))
    return body


def event_reason_values() -> set[str]:
    """Every value the spec allows in a stream event's eventReasons."""
    events = response_schema("/stream/{id}/{partitionId}/{position}", "get", 200)
    reasons = events["properties"]["events"]["items"]["properties"]["eventReasons"]
    values: set[str] = set()
    for option in reasons["oneOf"]:
        values.update(v for v in option.get("enum", []) if v is not None)
    return values


def check_events(response: Any, payload_title: str) -> list[dict[str, Any]]:
    """Validate a StreamEventWrapper; payloads against the one oneOf branch they should be.

    The spec types `eventReasons` as one string while DSCO sends an array; each element is
    checked against the spec's enums instead.
    """
    assert response.status_code == 200, response.text
    body = response.json()
    schema = response_schema("/stream/{id}/{partitionId}/{position}", "get", 200)
    item = schema["properties"]["events"]["items"]
    branches = item["properties"]["payload"]["oneOf"]
    item["properties"]["payload"] = next(b for b in branches if b.get("title") == payload_title)
    del item["properties"]["eventReasons"]
    allowed = event_reason_values()
    for event in body["events"]:
        reasons = event.get("eventReasons", [])
        assert isinstance(reasons, list)
        assert set(reasons) <= allowed, reasons
    validate(body, schema)
    return list(body["events"])


def check_log(body: dict[str, Any], path: str) -> None:
    """Validate a change-log response.

    Entries echo what the caller sent, so a record that failed validation cannot match the
    payload schema; those are checked with the envelope only, successful ones in full.
    """
    full = response_schema(path, "get", 200)
    validate({**body, "logs": [e for e in body["logs"] if e["status"] != "failure"]}, full)
    loose = response_schema(path, "get", 200)
    loose["properties"]["logs"]["items"]["properties"]["payload"] = {}
    validate(body, loose)
