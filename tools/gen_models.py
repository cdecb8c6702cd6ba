"""Generate ``aiodock/models/_generated.py`` from the Engine API Swagger spec.

Usage::

    python tools/gen_models.py [SPEC] [-o OUTPUT]

``SPEC`` defaults to ``../shared/engine-api/swagger-1.56.yaml`` relative to the
repository root, ``OUTPUT`` to ``aiodock/models/_generated.py``.

Only names and types are taken from the spec: every object schema becomes a
frozen, keyword-only attrs class whose fields are snake_case and carry their wire
key in ``metadata["wire"]``. Every field has a default, so a model can always be
built from a partial (or ``null``-riddled) payload. The output is deterministic
(classes sorted by name, fields in spec order) and already ruff-formatted.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "engine-api" / "swagger-1.56.yaml"
DEFAULT_OUTPUT = REPO_ROOT / "aiodock" / "models" / "_generated.py"
LEGACY_NAME = "swagger-1.41.yaml"
LINE_LENGTH = 100

# Names that a field must not take: keywords, plus every name the generated
# annotations refer to (a field called ``str`` would shadow ``str`` when the
# class annotations are resolved).
_RESERVED = set(keyword.kwlist) | {
    "Any",
    "attrs",
    "bool",
    "dict",
    "float",
    "int",
    "list",
    "str",
}

# Fields the daemon sends as null with a meaning the spec does not mark
# x-nullable: an exec that has not finished has ExitCode null, not 0.
_NULLABLE = {("ExecInspectResponse", "ExitCode")}

# Keys the daemon sends that no spec version describes (deprecated event
# fields that API 1.41 engines still emit on every event).
_EXTRA_FIELDS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "EventMessage": [
        ("status", {"type": "string"}),
        ("id", {"type": "string"}),
        ("from", {"type": "string"}),
    ],
}

# Fields holding credentials or secret material, as (class, wire key). Their value
# never appears in a repr (or str): the shared repr shows '***' when one is set.
# Generation fails if an entry stops matching a field, so a spec rename cannot
# silently unmask one.
_SENSITIVE = frozenset(
    {
        ("AuthConfig", "password"),
        ("AuthResponse", "IdentityToken"),
        ("JoinTokens", "Manager"),
        ("JoinTokens", "Worker"),
        ("SecretCreateRequest", "Data"),
        ("SecretSpec", "Data"),
        ("SwarmJoinRequest", "JoinToken"),
        ("SwarmSpecCAConfig", "SigningCAKey"),
        ("SwarmUnlockRequest", "UnlockKey"),
        ("UnlockKeyResponse", "UnlockKey"),
    }
)

# Mixed-case tokens that the generic splitter would cut in the wrong place.
_TOKEN_FIXES = (
    ("IPv4", "Ipv4"),
    ("IPv6", "Ipv6"),
    ("SELinux", "Selinux"),
    ("IOps", "Iops"),
)


def snake_case(name: str) -> str:
    """Turn a Docker wire key into a snake_case Python identifier.

    Acronyms stay one word (``OOMKilled`` -> ``oom_killed``, ``NanoCPUs`` ->
    ``nano_cpus``, ``GlobalIPv6PrefixLen`` -> ``global_ipv6_prefix_len``) and any
    character that cannot appear in an identifier becomes an underscore.
    """
    s = re.sub(r"[^0-9A-Za-z]+", "_", name)
    for bad, good in _TOKEN_FIXES:
        s = s.replace(bad, good)
    # Plural acronyms: "CPUs", "IDs", "IPs", "CIDRs" are one word each.
    s = re.sub(r"([A-Z]{2,})s(?=[A-Z0-9_]|$)", lambda m: m.group(1).capitalize() + "s", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"_+", "_", s).strip("_").lower()
    if not s:
        s = "field"
    if s[0].isdigit():
        s = "f_" + s
    if s in _RESERVED:
        s += "_"
    return s


def pascal_case(name: str) -> str:
    """Turn a wire key into a PascalCase fragment of a class name."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


@dataclass
class Field:
    name: str
    wire: str
    annotation: str
    default: str  # the keyword argument of attrs.field(), e.g. 'default=""'
    refs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FieldType:
    base: str  # the type without "| None"
    default: str
    nullable: bool = False
    refs: frozenset[str] = frozenset()  # generated classes the type mentions

    @property
    def annotation(self) -> str:
        if self.nullable and self.base != "Any":
            return f"{self.base} | None"
        return self.base


@dataclass
class Klass:
    name: str
    origin: str
    fields: list[Field] = field(default_factory=list)


_SCALARS = {
    "string": ("str", 'default=""'),
    "integer": ("int", "default=0"),
    "number": ("float", "default=0.0"),
    "boolean": ("bool", "default=False"),
}


class ModelGenerator:
    """Walks the spec and collects one :class:`Klass` per object schema."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.defs: dict[str, Any] = spec.get("definitions", {})
        self.classes: dict[str, Klass] = {}
        # id(schema) -> class name, so one inline schema reached twice (through
        # allOf or a YAML anchor) produces one class.
        self._by_schema: dict[int, str] = {}
        self._def_types: dict[str, FieldType] = {}

    # --- schema helpers ----------------------------------------------------

    def _deref(self, ref: str) -> tuple[str, dict[str, Any]]:
        prefix = "#/definitions/"
        if not ref.startswith(prefix):
            raise ValueError(f"unsupported $ref {ref!r}")
        name = ref[len(prefix) :]
        return name, self.defs[name]

    @staticmethod
    def _single_ref(schema: dict[str, Any]) -> str | None:
        if "$ref" in schema:
            return str(schema["$ref"])
        parts = schema.get("allOf")
        if (
            isinstance(parts, list)
            and len(parts) == 1
            and "$ref" in parts[0]
            and "properties" not in schema
        ):
            return str(parts[0]["$ref"])
        return None

    def _is_object(self, schema: dict[str, Any]) -> bool:
        """True when the schema describes a structured object (a class)."""
        if schema.get("properties"):
            return True
        return "allOf" in schema

    def _properties(self, schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
        """Yield (wire key, property schema, owner class name) in spec order.

        ``allOf`` parts are flattened; properties of a referenced definition are
        attributed to that definition so their inline classes keep its name.
        """
        for part in schema.get("allOf", []):
            if "$ref" in part:
                name, target = self._deref(part["$ref"])
                for key, prop, _owner in self._properties(target):
                    yield key, prop, name
            else:
                yield from self._properties(part)
        owner = self._by_schema.get(id(schema), "")
        for key, prop in (schema.get("properties") or {}).items():
            yield key, prop, owner

    # --- types ---------------------------------------------------------------

    def _ref_type(self, ref: str) -> FieldType:
        name, target = self._deref(ref)
        if name not in self._def_types:
            self._def_types[name] = FieldType("Any", "default=None")  # recursion guard
            if self._is_object(target):
                self._def_types[name] = FieldType(
                    name, "default=None", nullable=True, refs=frozenset({name})
                )
                self.add_class(name, target, f"definitions/{name}")
            else:
                context = name + "Item" if target.get("type") == "array" else name
                self._def_types[name] = self.type_of(target, context)
        return self._def_types[name]

    def type_of(self, schema: Any, context: str) -> FieldType:
        """Return the Python type and default of a schema.

        ``context`` names the class an inline object schema becomes.
        """
        if not isinstance(schema, dict) or not schema:
            return FieldType("Any", "default=None")
        ref = self._single_ref(schema)
        if ref is not None:
            return self._ref_type(ref)
        if self._is_object(schema):
            name = self.add_class(context, schema, context)
            return FieldType(name, "default=None", nullable=True, refs=frozenset({name}))
        typ = schema.get("type")
        result: FieldType
        if typ in _SCALARS:
            result = FieldType(*_SCALARS[typ])
        elif typ == "array":
            item = self.type_of(schema.get("items"), context)
            result = FieldType(f"list[{item.base}]", "factory=list", refs=item.refs)
        elif typ == "object" or (typ is None and "additionalProperties" in schema):
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                value = self.type_of(extra, context + "Value")
                value_type, refs = value.base, value.refs
                if extra.get("x-nullable") is True and value_type != "Any":
                    value_type += " | None"
            elif extra is None:
                # A free-form object: an empty one ({}) still means something
                # (e.g. service mode Global), so unset is None rather than {}.
                return FieldType("dict[str, Any]", "default=None", nullable=True)
            else:
                value_type, refs = "Any", frozenset()
            result = FieldType(f"dict[str, {value_type}]", "factory=dict", refs=refs)
        else:
            return FieldType("Any", "default=None")
        if schema.get("x-nullable") is True:
            return FieldType(result.base, "default=None", nullable=True, refs=result.refs)
        return result

    # --- classes -----------------------------------------------------------

    def add_class(self, name: str, schema: dict[str, Any], origin: str) -> str:
        known = self._by_schema.get(id(schema))
        if known is not None:
            return known
        if name in self.classes:
            raise ValueError(
                f"class name {name!r} for {origin} already used by {self.classes[name].origin}"
            )
        klass = Klass(name=name, origin=origin)
        self.classes[name] = klass
        self._by_schema[id(schema)] = name
        seen: dict[str, Field] = {}
        for wire, prop, owner in self._properties(schema):
            pyname = snake_case(wire)
            ftype = self.type_of(prop, (owner or name) + pascal_case(wire))
            if (name, wire) in _NULLABLE and not ftype.nullable:
                ftype = FieldType(ftype.base, "default=None", nullable=True, refs=ftype.refs)
            new = Field(
                name=pyname,
                wire=wire,
                annotation=ftype.annotation,
                default=ftype.default,
                refs=ftype.refs,
            )
            old = seen.get(pyname)
            if old is not None:
                if old.wire == wire:  # allOf override: the later schema wins
                    klass.fields[klass.fields.index(old)] = new
                    seen[pyname] = new
                    continue
                raise ValueError(
                    f"{origin}: wire keys {old.wire!r} and {wire!r} both map to {pyname!r}"
                )
            seen[pyname] = new
            klass.fields.append(new)
        return name

    def collect(self) -> None:
        for name in self.defs:
            # Non-object definitions (arrays, maps) may still hold inline objects.
            self._ref_type(f"#/definitions/{name}")
        for _path, ops in self.spec.get("paths", {}).items():
            for method, op in ops.items():
                if method == "parameters" or not isinstance(op, dict):
                    continue
                self._collect_operation(op)

    def add_extra_fields(self) -> None:
        """Append the fields of ``_EXTRA_FIELDS`` that a class does not have yet."""
        for name, extras in sorted(_EXTRA_FIELDS.items()):
            klass = self.classes.get(name)
            if klass is None:
                continue
            for wire, schema in extras:
                pyname = snake_case(wire)
                if any(f.wire == wire or f.name == pyname for f in klass.fields):
                    continue
                ftype = self.type_of(schema, name + pascal_case(wire))
                klass.fields.append(
                    Field(pyname, wire, ftype.annotation, ftype.default, ftype.refs)
                )

    def _collect_operation(self, op: dict[str, Any]) -> None:
        op_id = str(op["operationId"])
        for param in op.get("parameters", []):
            if param.get("in") == "body" and isinstance(param.get("schema"), dict):
                self._inline(param["schema"], op_id + "Request")
        for code, response in sorted(op.get("responses", {}).items(), key=lambda x: str(x[0])):
            schema = response.get("schema") if isinstance(response, dict) else None
            if str(code).startswith("2") and isinstance(schema, dict):
                self._inline(schema, op_id + "Response")

    def _inline(self, schema: dict[str, Any], fallback: str) -> None:
        if "$ref" in schema:
            return
        if self._is_object(schema):
            self.add_class(str(schema.get("title") or fallback), schema, fallback)
        elif schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            items = schema["items"]
            if "$ref" not in items and self._is_object(items):
                self.add_class(str(items.get("title") or fallback + "Item"), items, fallback)


def merge_legacy(primary: ModelGenerator, legacy: ModelGenerator) -> None:
    """Add fields that only an older spec still describes.

    Engines that speak an older API version still send keys the newest spec has
    dropped (``NetworkSettings.IPAddress``, the 1.41 shape of ``/system/df`` ...).
    For every class both specs share by name, the legacy-only wire keys are
    appended after the primary fields; classes those fields need are copied over
    when the primary spec has none of that name. The primary spec always wins.
    """

    def ensure(name: str) -> None:
        if name in primary.classes:
            return
        klass = legacy.classes[name]
        primary.classes[name] = Klass(name=name, origin=f"legacy {klass.origin}")
        primary.classes[name].fields = list(klass.fields)
        for f in klass.fields:
            for ref in sorted(f.refs):
                ensure(ref)

    for name in sorted(primary.classes):
        old = legacy.classes.get(name)
        if old is None:
            continue
        klass = primary.classes[name]
        wires = {f.wire for f in klass.fields}
        names = {f.name for f in klass.fields}
        for f in old.fields:
            if f.wire in wires or f.name in names:
                continue
            klass.fields.append(f)
            for ref in sorted(f.refs):
                ensure(ref)


# --- rendering ----------------------------------------------------------------


def _quote(text: str) -> str:
    if '"' in text or "\\" in text:
        raise ValueError(f"unexpected character in {text!r}")
    return f'"{text}"'


def _render_call(prefix: str, args: list[str]) -> list[str]:
    """Lay out ``prefix + attrs.field(*args)`` the way ruff format does.

    Continuation lines are indented relative to the indentation of ``prefix``.
    """
    indent = prefix[: len(prefix) - len(prefix.lstrip())]
    head = f"{prefix}attrs.field("
    one_line = head + ", ".join(args) + ")"
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    middle = indent + "    " + ", ".join(args)
    if len(middle) <= LINE_LENGTH:
        return [head, middle, indent + ")"]
    return [head] + [f"{indent}    {a}," for a in args] + [indent + ")"]


def _render_field(f: Field, *, sensitive: bool = False) -> list[str]:
    args = [f.default, f"metadata={{{_quote('wire')}: {_quote(f.wire)}}}"]
    if sensitive:
        args.insert(1, "repr=False")
    target = f"    {f.name}: {f.annotation} = "
    if len(target + "attrs.field(") <= LINE_LENGTH:
        return _render_call(target, args)
    # The call does not even start on the first line: wrap it in parentheses.
    return [target + "(", *_render_call("        ", args), "    )"]


_BASE_CLASS = """\


class _Model:
    # Shared by every model: attrs' per-class repr is replaced by this one, which
    # lists only the fields that differ from their defaults (and costs no compile
    # time per class at import). A field declared with repr=False holds a secret:
    # it shows as '***' when set, never its value.
    __slots__ = ()

    def __repr__(self) -> str:
        parts: list[str] = []
        for a in getattr(type(self), "__attrs_attrs__", ()):
            value = getattr(self, a.name)
            default = a.default
            make = getattr(default, "factory", None)  # an attrs.Factory
            if make is not None:
                default = make()
            if value is not default and value != default:
                parts.append(f"{a.name}={value!r}" if a.repr else f"{a.name}='***'")
        return f"{type(self).__name__}({', '.join(parts)})"
"""


def render(gen: ModelGenerator, legacy_version: str | None = None) -> str:
    version = gen.spec.get("info", {}).get("version", "?")
    source = f"Engine API spec {version}"
    if legacy_version:
        source += f" (+ {legacy_version}-only fields)"
    # The order ruff's RUF022 wants for __all__: all-caps names first.
    names = sorted(gen.classes, key=lambda n: (not n.isupper(), n))
    out = [
        f"# Generated by tools/gen_models.py from {source}. Do not edit.",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "import attrs",
        "",
        "__all__ = [",
        *(f"    {_quote(n)}," for n in names),
        "]",
        *_BASE_CLASS.splitlines(),
    ]
    masked: set[tuple[str, str]] = set()
    for name in names:
        klass = gen.classes[name]
        out += ["", "", "@attrs.frozen(kw_only=True, repr=False)", f"class {name}(_Model):"]
        if not klass.fields:
            out.append("    pass")
        for f in klass.fields:
            sensitive = (name, f.wire) in _SENSITIVE
            if sensitive:
                masked.add((name, f.wire))
            out += _render_field(f, sensitive=sensitive)
    missing = _SENSITIVE - masked
    if missing:
        raise ValueError(f"sensitive fields not found in the spec: {sorted(missing)}")
    return "\n".join(out) + "\n"


def _load(path: Path) -> ModelGenerator:
    with path.open(encoding="utf-8") as fh:
        gen = ModelGenerator(yaml.safe_load(fh))
    gen.collect()
    return gen


def generate(spec_path: Path, legacy_path: Path | None = None) -> str:
    """Return the source of the models module for the spec at ``spec_path``.

    When ``legacy_path`` names an older spec, its extra fields are merged in
    (see :func:`merge_legacy`).
    """
    gen = _load(spec_path)
    legacy_version = None
    if legacy_path is not None:
        legacy = _load(legacy_path)
        legacy_version = str(legacy.spec.get("info", {}).get("version", "?"))
        merge_legacy(gen, legacy)
    gen.add_extra_fields()
    return render(gen, legacy_version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--legacy",
        type=Path,
        default=None,
        help=f"older spec whose extra fields are merged in (default: {LEGACY_NAME} next to SPEC)",
    )
    parser.add_argument("--no-legacy", action="store_true", help="do not merge an older spec")
    args = parser.parse_args(argv)
    legacy = None if args.no_legacy else (args.legacy or args.spec.parent / LEGACY_NAME)
    source = generate(args.spec, legacy)
    args.output.write_text(source, encoding="utf-8")
    print(f"wrote {args.output} ({source.count('@attrs.frozen')} classes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
