"""Extract the facts of the Engine API wire contract into ``spec/engine-api.json``.

This is the only file of the project that reads upstream material: the Swagger 2.0
specs of the moby project's Engine API (Apache-2.0) and the operations table kept
beside them. Everything else (``tools/gen_models.py``, ``tools/coverage_report.py``,
the tests) reads the committed ``spec/engine-api.json`` instead, so a clone of the
repository is self-contained.

Usage (from the repository root)::

    python tools/extract_engine_api.py [NEW_SPEC] [OLD_SPEC] [--operations TSV] [-o OUTPUT]
    python tools/extract_engine_api.py --check     # exit 1 if OUTPUT differs

The defaults are ``../shared/engine-api/swagger-1.56.yaml`` (the newest API),
``../shared/engine-api/swagger-1.41.yaml`` (the oldest API the project supports, whose
extra fields the models keep) and ``../shared/engine-api/operations.tsv``.

Refreshing for a newer Engine API, as a maintainer:

1. ``python tools/extract_engine_api.py NEW.yaml OLD.yaml --operations TSV
   --upstream-ref moby/moby@COMMIT`` rewrites ``spec/engine-api.json``; review its diff
   (the ``differences`` section lists what exists in only one version);
2. ``python tools/gen_models.py`` regenerates ``aiodock/models/_generated``;
3. ``python tools/coverage_report.py`` rewrites ``docs/operations.md`` (the unit tests
   fail until every operation of the description has a method, or a known gap);
4. commit the three together.

What is kept: names and wire keys, types and formats, ``$ref``, ``allOf``, items and
``additionalProperties``, ``x-nullable``/``x-omitempty``, enums, defaults, required,
titles (they name inline classes), bounds and patterns; per operation its method,
path, tags, effective ``produces``/``consumes``, parameters and response schemas and
headers. What is dropped: every ``description``, ``summary`` and ``example`` (upstream
prose never enters the project) and the Go-only ``x-go-*`` hints. A key the tool does
not know stops it, so a new upstream keyword gets a decision instead of slipping in.

Object properties are written as lists (``{"wire": KEY, ...schema}``) so that their
upstream order, which the generated models keep, survives the sorted-key layout.
The older version is written as a delta: an operation or schema identical to the
newest one is ``{"same_as": NEWEST}``.

Stream kinds (``stream`` of an operation) are derived from facts, not read from prose:

- ``produces`` naming ``application/vnd.docker.raw-stream`` or ``...multiplexed-stream``:
  ``mux|raw`` for GET (the framing depends on the container's TTY), and
  ``hijack-tcp:mux|raw`` for POST (the connection is upgraded and carries stdin too);
- ``application/x-tar``: ``tar``;
- ``application/jsonl``, ``application/x-ndjson``, ``application/json-seq``:
  ``json-lines``;
- operations whose ``produces`` does not tell, taken from ``KNOWN_STREAMS`` below
  (checked against the real engine: progress streams of JSON messages, the websocket
  attach, the h2c session, the export tarball sent as octet-stream);
- anything else: ``none`` (one response body, read whole).

The operations table (``operations.tsv``) gives what the specs do not say: the API
version that introduced each operation. Its method, path, tag, produces, presence in
the older version and stream format are checked against what this tool derives; a
disagreement stops it.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]

REPO_ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = REPO_ROOT.parent / "shared" / "engine-api"
DEFAULT_NEW = UPSTREAM / "swagger-1.56.yaml"
DEFAULT_OLD = UPSTREAM / "swagger-1.41.yaml"
DEFAULT_TABLE = UPSTREAM / "operations.tsv"
DEFAULT_OUTPUT = REPO_ROOT / "spec" / "engine-api.json"
WIDTH = 100
FORMAT = 1

# Schema keywords kept as they are (their values are names, types, bounds or wire values).
_SCHEMA_PLAIN = frozenset(
    {
        "$ref",
        "default",
        "enum",
        "format",
        "maxItems",
        "maxLength",
        "maximum",
        "minItems",
        "minLength",
        "minimum",
        "nullable",
        "pattern",
        "readOnly",
        "required",
        "title",
        "type",
        "uniqueItems",
        "x-nullable",
        "x-omitempty",
    }
)
# Keywords dropped on purpose: upstream prose, examples, and Go implementation hints.
_DROPPED = frozenset(
    {"description", "example", "examples", "summary", "x-go-name", "x-go-package", "x-go-type"}
)
_PARAM_PLAIN = frozenset(
    {
        "collectionFormat",
        "default",
        "enum",
        "format",
        "in",
        "maximum",
        "minimum",
        "name",
        "pattern",
        "required",
        "type",
    }
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

_MUX = ("application/vnd.docker.raw-stream", "application/vnd.docker.multiplexed-stream")
_LINES = ("application/jsonl", "application/x-ndjson", "application/json-seq")

# Operations whose stream kind the spec's produces list does not reveal.
KNOWN_STREAMS = {
    "ContainerAttachWebsocket": "websocket",
    "ContainerExport": "tar",
    "ContainerStats": "json-stream",
    "ImageBuild": "json-stream",
    "ImageCreate": "json-stream",
    "ImageLoad": "json-stream",
    "ImagePush": "json-stream",
    "PluginPull": "json-stream",
    "PluginPush": "json-stream",
    "PluginUpgrade": "json-stream",
    "Session": "hijack-h2c",
}

# Our own words for the stream kinds, written into the description's header.
STREAM_KINDS = {
    "none": "one response body, read whole",
    "json-stream": "a chunked body of concatenated JSON values (progress messages, stats)",
    "json-lines": "newline-delimited JSON records (events)",
    "mux|raw": "log bytes: multiplexed frames when the source has no TTY, raw otherwise",
    "tar": "a tar archive streamed as the body",
    "hijack-tcp:mux|raw": "connection upgraded to raw TCP; framing as mux|raw",
    "hijack-h2c": "connection upgraded to HTTP/2 cleartext (BuildKit session)",
    "websocket": "a websocket carrying the container's streams",
}


class ExtractError(Exception):
    """The upstream material is not what this tool understands."""


# --- projection ---------------------------------------------------------------------


def schema_facts(schema: Any, where: str) -> Any:
    """The facts of a schema: prose dropped, properties as an ordered list."""
    if not isinstance(schema, dict):
        return schema  # additionalProperties: true/false
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED:
            continue
        if key in _SCHEMA_PLAIN:
            out[key] = value
        elif key == "properties":
            out[key] = [
                {"wire": wire, **schema_facts(prop, f"{where}.{wire}")}
                for wire, prop in (value or {}).items()
            ]
        elif key in ("items", "additionalProperties"):
            out[key] = schema_facts(value, f"{where}.{key}")
        elif key == "allOf":
            out[key] = [schema_facts(part, f"{where}.allOf") for part in value]
        else:
            raise ExtractError(f"{where}: unknown schema keyword {key!r}")
    return out


def parameter_facts(param: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in param.items():
        if key in _DROPPED:
            continue
        if key in _PARAM_PLAIN:
            out[key] = value
        elif key in ("schema", "items"):
            out[key] = schema_facts(value, f"{where}.{param.get('name')}")
        else:
            raise ExtractError(f"{where}: unknown parameter keyword {key!r}")
    return out


def response_facts(response: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in response.items():
        if key in _DROPPED:
            continue
        if key == "schema":
            out[key] = schema_facts(value, where)
        elif key == "headers":
            out[key] = {name: schema_facts(h, f"{where}.{name}") for name, h in value.items()}
        else:
            raise ExtractError(f"{where}: unknown response keyword {key!r}")
    return out


def stream_kind(op_id: str, method: str, produces: list[str]) -> str:
    if op_id in KNOWN_STREAMS:
        return KNOWN_STREAMS[op_id]
    if any(p in _MUX for p in produces):
        return "hijack-tcp:mux|raw" if method == "POST" else "mux|raw"
    if "application/x-tar" in produces:
        return "tar"
    if any(p in _LINES for p in produces):
        return "json-lines"
    return "none"


def operations_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """operationId -> the facts of the operation, as one spec describes it."""
    produces_default = list(spec.get("produces", []))
    consumes_default = list(spec.get("consumes", []))
    ops: dict[str, dict[str, Any]] = {}
    for path, item in spec.get("paths", {}).items():
        unknown = set(item) - set(_METHODS)
        if unknown:
            raise ExtractError(f"{path}: path-level keys {sorted(unknown)} are not supported")
        for method, op in item.items():
            op_id = str(op["operationId"])
            where = f"{op_id} ({method.upper()} {path})"
            if op_id in ops:
                raise ExtractError(f"{where}: operationId used twice")
            params = [parameter_facts(p, where) for p in op.get("parameters", [])]
            entry: dict[str, Any] = {
                "method": method.upper(),
                "path": path,
                "tags": list(op.get("tags", [])),
                "produces": list(op.get("produces", produces_default)),
                "parameters": params,
                "responses": {
                    str(code): response_facts(resp, f"{where} {code}")
                    for code, resp in op.get("responses", {}).items()
                },
            }
            if any(p["in"] in ("body", "formData") for p in params):
                entry["consumes"] = list(op.get("consumes", consumes_default))
            for key in op:
                if key not in _DROPPED and key not in {
                    "operationId",
                    "tags",
                    "produces",
                    "consumes",
                    "parameters",
                    "responses",
                }:
                    raise ExtractError(f"{where}: unknown operation keyword {key!r}")
            ops[op_id] = entry
    return ops


def schemas_of(spec: dict[str, Any]) -> dict[str, Any]:
    return {name: schema_facts(s, name) for name, s in spec.get("definitions", {}).items()}


# --- differences --------------------------------------------------------------------


def field_paths(schema: Any, schemas: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted wire paths of the fields a schema declares itself (inline objects included).

    ``$ref`` targets are not followed (their fields belong to the referenced schema);
    allOf parts are, since they add fields to this one.
    """
    out: set[str] = set()
    if not isinstance(schema, dict):
        return out
    for part in schema.get("allOf", []):
        if "$ref" in part:
            name = part["$ref"].rsplit("/", 1)[-1]
            out |= field_paths(schemas.get(name), schemas, prefix)
        else:
            out |= field_paths(part, schemas, prefix)
    for prop in schema.get("properties", []):
        path = f"{prefix}{prop['wire']}"
        out.add(path)
        out |= field_paths(prop, schemas, path + ".")
    if isinstance(schema.get("items"), dict):
        out |= field_paths(schema["items"], schemas, prefix + "[].")
    if isinstance(schema.get("additionalProperties"), dict):
        out |= field_paths(schema["additionalProperties"], schemas, prefix + "{}.")
    return out


def differences(
    new: tuple[str, dict[str, Any], dict[str, Any]], old: tuple[str, dict[str, Any], dict[str, Any]]
) -> dict[str, Any]:
    """What exists in only one of the two versions: operations, schemas, fields, parameters."""
    (nv, new_ops, new_schemas), (ov, old_ops, old_schemas) = new, old
    out: dict[str, Any] = {
        "operations_only_in": {
            nv: sorted(set(new_ops) - set(old_ops)),
            ov: sorted(set(old_ops) - set(new_ops)),
        },
        "schemas_only_in": {
            nv: sorted(set(new_schemas) - set(old_schemas)),
            ov: sorted(set(old_schemas) - set(new_schemas)),
        },
    }
    fields: dict[str, dict[str, list[str]]] = {nv: {}, ov: {}}
    for name in sorted(set(new_schemas) & set(old_schemas)):
        a = field_paths(new_schemas[name], new_schemas)
        b = field_paths(old_schemas[name], old_schemas)
        if a - b:
            fields[nv][name] = sorted(a - b)
        if b - a:
            fields[ov][name] = sorted(b - a)
    out["fields_only_in"] = fields
    params: dict[str, dict[str, list[str]]] = {nv: {}, ov: {}}
    for op_id in sorted(set(new_ops) & set(old_ops)):
        a = {f"{p['in']}:{p['name']}" for p in new_ops[op_id]["parameters"]}
        b = {f"{p['in']}:{p['name']}" for p in old_ops[op_id]["parameters"]}
        if a - b:
            params[nv][op_id] = sorted(a - b)
        if b - a:
            params[ov][op_id] = sorted(b - a)
    out["parameters_only_in"] = params
    return out


# --- the operations table -----------------------------------------------------------


def read_table(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["operationId"]: row for row in csv.DictReader(fh, delimiter="\t")}


def check_table(
    table: dict[str, dict[str, str]], ops: dict[str, dict[str, Any]], old_ops: dict[str, Any]
) -> None:
    """Fail on any disagreement between the table and what the specs say."""
    problems: list[str] = []
    if set(table) != set(ops):
        problems.append(f"operations differ: {sorted(set(table) ^ set(ops))}")
    for op_id in sorted(set(table) & set(ops)):
        row, op = table[op_id], ops[op_id]
        stream = row["stream_format"] or "none"
        checks = {
            "method": (row["method"], op["method"]),
            "path": (row["path"], op["path"]),
            "tag": (row["tag"], (op["tags"] or [""])[0]),
            "produces": (row["produces"], ",".join(op["produces"])),
            "in_v1_41": (row["in_v1_41"] == "yes", op_id in old_ops),
            "stream_format": (stream, op["stream"]),
            "streaming": (row["streaming"] == "yes", op["stream"] != "none"),
        }
        problems += [
            f"{op_id}: {name}: table says {want!r}, specs say {got!r}"
            for name, (want, got) in checks.items()
            if want != got
        ]
    if problems:
        raise ExtractError("the operations table disagrees:\n  " + "\n  ".join(problems))


# --- assembling and writing ---------------------------------------------------------


def delta(new: dict[str, Any], old: dict[str, Any], newest: str) -> dict[str, Any]:
    """The older version's entries, ``{"same_as": newest}`` where identical."""
    return {
        name: {"same_as": newest} if new.get(name) == value else value
        for name, value in old.items()
    }


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or data.get("swagger") != "2.0":
        raise ExtractError(f"{path} is not a Swagger 2.0 document")
    return data


def build(
    new_spec: dict[str, Any],
    old_spec: dict[str, Any],
    table: dict[str, dict[str, str]] | None,
    upstream_ref: str | None,
) -> dict[str, Any]:
    nv = str(new_spec["info"]["version"])
    ov = str(old_spec["info"]["version"])
    ops, old_ops = operations_of(new_spec), operations_of(old_spec)
    schemas, old_schemas = schemas_of(new_spec), schemas_of(old_spec)
    older = {
        "version": ov,
        # Compared before the derived facts (stream, versions) are added to the newest.
        "operations": delta(ops, old_ops, nv),
        "schemas": delta(schemas, old_schemas, nv),
    }
    for op_id, op in ops.items():
        op["stream"] = stream_kind(op_id, op["method"], op["produces"])
        op["versions"] = [ov, nv] if op_id in old_ops else [nv]
    if table is not None:
        check_table(table, ops, old_ops)
        for op_id, op in ops.items():
            op["min_api_version"] = table[op_id]["min_api_version"]
    source: dict[str, Any] = {
        "document": "Docker Engine API, Swagger 2.0 (moby project)",
        "files": {nv: "api/swagger.yaml", ov: "api/docs/v1.41.yaml"},
        "license": "Apache-2.0 (the moby project, https://github.com/moby/moby)",
    }
    if upstream_ref:
        source["ref"] = upstream_ref
    about = {
        "content": (
            "Facts of the wire contract only: names, wire keys, types, enums, defaults, "
            "nullability, references, parameters and stream kinds. No description, summary "
            "or example text of the upstream specification is included."
        ),
        "format": FORMAT,
        "generated_by": "tools/extract_engine_api.py (do not edit by hand)",
        "layout": {
            "operations": "newest version, by operationId",
            "schemas": "newest version's definitions; properties listed in upstream order",
            "older": "the older version: entries identical to the newest are same_as",
            "differences": "operations, schemas, fields and parameters found in one version only",
        },
        "newest": nv,
        "older": ov,
        "source": source,
        "stream_kinds": STREAM_KINDS,
        "wire_defaults": {
            "consumes": list(new_spec.get("consumes", [])),
            "produces": list(new_spec.get("produces", [])),
        },
    }
    return {
        "about": about,
        "differences": differences((nv, ops, schemas), (ov, old_ops, old_schemas)),
        "older": older,
        "operations": ops,
        "schemas": schemas,
    }


def render(value: Any, indent: int = 0, prefix_len: int = 0) -> str:
    """JSON with sorted keys: a value on one line when it fits in WIDTH, else one per line."""
    flat = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or not value or indent + prefix_len + len(flat) <= WIDTH:
        return flat
    pad = " " * (indent + 1)
    if isinstance(value, dict):
        parts = []
        for key in sorted(value):
            head = json.dumps(key, ensure_ascii=False) + ": "
            parts.append(pad + head + render(value[key], indent + 1, len(head) + 1))
        return "{\n" + ",\n".join(parts) + "\n" + " " * indent + "}"
    items = [pad + render(item, indent + 1, 1) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new", nargs="?", type=Path, default=DEFAULT_NEW, help="newest spec")
    parser.add_argument("old", nargs="?", type=Path, default=DEFAULT_OLD, help="older spec")
    parser.add_argument("--operations", type=Path, default=DEFAULT_TABLE, help="operations.tsv")
    parser.add_argument("--no-operations", action="store_true", help="no table (no min versions)")
    parser.add_argument("--upstream-ref", default=None, help="e.g. moby/moby@<commit>")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if OUTPUT would change")
    args = parser.parse_args(argv)
    try:
        table = None if args.no_operations else read_table(args.operations)
        doc = build(load_yaml(args.new), load_yaml(args.old), table, args.upstream_ref)
    except (OSError, ExtractError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.upstream_ref is None and args.output.exists():
        # Keep the recorded upstream reference unless a new one is given.
        try:
            ref = json.loads(args.output.read_text(encoding="utf-8"))["about"]["source"].get("ref")
        except (ValueError, KeyError, TypeError):
            ref = None
        if ref:
            doc["about"]["source"]["ref"] = ref
    text = render(doc) + "\n"
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale; run tools/extract_engine_api.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(
        f"wrote {args.output} ({len(doc['operations'])} operations, "
        f"{len(doc['schemas'])} schemas, {len(text)} bytes)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
