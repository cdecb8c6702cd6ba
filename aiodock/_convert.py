"""The one cattrs converter of aiodock, plus the JSON helpers.

Docker's JSON is inconsistent in ways a model layer has to absorb:

* keys are PascalCase, camelCase or snake_case and acronyms are spelled every
  possible way (``OOMKilled`` next to ``OomKillDisable``, ``CpuShares`` next to
  ``IPAddress``). Each model field therefore carries its wire key in
  ``metadata={"wire": ...}``; fields without one use the PascalCase form of
  their name (``cpu_shares`` -> ``CpuShares``).
* the daemon sends ``null`` for empty lists, maps, numbers and objects. Structuring
  turns ``null`` into the field's zero value (``[]``, ``{}``, ``0``, ``""``,
  ``False``) or ``None`` for optional fields and nested objects.
* newer daemons add keys; unknown keys are ignored.

Unstructuring is the reverse mapping and leaves out every attribute equal to its
default (Go's ``omitempty``), so a request body built from a model only carries
what the caller set.

Hooks are generated once per class, lazily, on first use.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from types import MemberDescriptorType, NoneType, UnionType
from typing import Any, Final, TypeVar, Union, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override


def _find_orjson() -> Any:
    try:
        return importlib.import_module("orjson")
    except ImportError:  # pragma: no cover - depends on the environment
        return None


_orjson = _find_orjson()

__all__ = [
    "HAS_ORJSON",
    "converter",
    "json_dumps",
    "json_loads",
    "parse_time",
    "structure",
    "structure_list",
    "unstructure",
]

T = TypeVar("T")
StructureHook = Callable[[Any, Any], Any]

#: Whether the JSON helpers use orjson (``pip install aiodock[speedups]``).
HAS_ORJSON: Final = _orjson is not None

#: The converter every model goes through. Use the module functions below
#: rather than calling it directly, unless you register hooks of your own.
converter: Final = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)


# --- names --------------------------------------------------------------------


def _pascal_case(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.strip("_").split("_"))


def _wire_key(field: attrs.Attribute[Any]) -> str:
    wire = field.metadata.get("wire")
    return wire if isinstance(wire, str) else _pascal_case(field.name)


# --- structure hooks -------------------------------------------------------------
# Each hook takes (value, type) as cattrs expects. ``null`` becomes the zero value.


def _structure_str(value: Any, _: Any) -> str:
    if value.__class__ is str:
        return value
    return "" if value is None else str(value)


def _structure_int(value: Any, _: Any) -> int:
    if value.__class__ is int:
        return value
    return 0 if value is None else int(value)


def _structure_float(value: Any, _: Any) -> float:
    if value.__class__ is float:
        return value
    return 0.0 if value is None else float(value)


def _structure_bool(value: Any, _: Any) -> bool:
    if value.__class__ is bool:
        return value
    return False if value is None else bool(value)


def _structure_any(value: Any, _: Any) -> Any:
    return value


_SCALAR_HOOKS: Final[dict[Any, StructureHook]] = {
    str: _structure_str,
    int: _structure_int,
    float: _structure_float,
    bool: _structure_bool,
    Any: _structure_any,
}
_ZERO: Final[dict[Any, Any]] = {str: "", int: 0, float: 0.0, bool: False}

for _type, _hook in _SCALAR_HOOKS.items():
    if _type is not Any:
        converter.register_structure_hook(_type, _hook)


def _hook_for(t: Any) -> StructureHook:
    """The structure hook for ``t``; lazy if ``t`` is still being generated."""
    scalar = _SCALAR_HOOKS.get(t)
    if scalar is not None:
        return scalar
    try:
        return converter.get_structure_hook(t)
    except RecursionError:
        # A class that (indirectly) contains itself: resolve at call time.
        def lazy(value: Any, _: Any) -> Any:
            return converter.structure(value, t)

        return lazy


def _optional_arg(t: Any) -> Any:
    """``X`` for ``X | None`` (exactly one other member), else ``None``."""
    if get_origin(t) in (Union, UnionType):
        args = [a for a in get_args(t) if a is not NoneType]
        if len(args) == 1 and len(get_args(t)) == 2:
            return args[0]
    return None


def _is_optional(t: Any) -> bool:
    return _optional_arg(t) is not None


def _optional_factory(t: Any) -> StructureHook:
    inner = _optional_arg(t)
    hook = _hook_for(inner)

    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure_optional


def _is_list(t: Any) -> bool:
    return t is list or get_origin(t) is list


def _list_factory(t: Any) -> StructureHook:
    args = get_args(t)
    elem: Any = args[0] if args else Any
    if elem is Any:

        def structure_any_list(value: Any, _: Any) -> list[Any]:
            return [] if value is None else list(value)

        return structure_any_list

    if elem in _ZERO:
        cls: Callable[[Any], Any] = elem
        zero = _ZERO[elem]

        def structure_scalar_list(value: Any, _: Any) -> list[Any]:
            if value is None:
                return []
            return [e if e.__class__ is cls else (zero if e is None else cls(e)) for e in value]

        return structure_scalar_list

    hook = _hook_for(elem)
    if attrs.has(elem):
        # A null element of a list of objects carries nothing: drop it.
        def structure_model_list(value: Any, _: Any) -> list[Any]:
            if value is None:
                return []
            return [hook(e, elem) for e in value if e is not None]

        return structure_model_list

    def structure_list(value: Any, _: Any) -> list[Any]:
        return [] if value is None else [hook(e, elem) for e in value]

    return structure_list


def _is_dict(t: Any) -> bool:
    return t is dict or get_origin(t) in (dict, Mapping)


def _dict_factory(t: Any) -> StructureHook:
    args = get_args(t)
    key: Any = args[0] if args else Any
    val: Any = args[1] if len(args) > 1 else Any
    if key in (Any, str) and val is Any:

        def structure_any_dict(value: Any, _: Any) -> dict[Any, Any]:
            return {} if value is None else dict(value)

        return structure_any_dict

    key_hook = None if key in (Any, str) else _hook_for(key)
    val_hook = _hook_for(val)

    def structure_dict(value: Any, _: Any) -> dict[Any, Any]:
        if value is None:
            return {}
        if key_hook is None:
            return {k: val_hook(v, val) for k, v in value.items()}
        return {key_hook(k, key): val_hook(v, val) for k, v in value.items()}

    return structure_dict


def _renames(cls: type[Any]) -> dict[str, Any]:
    """Per-field cattrs overrides mapping attribute names to wire keys."""
    return {a.name: override(rename=_wire_key(a)) for a in attrs.fields(cls)}


def _null_to_default(t: type[Any]) -> StructureHook:
    """Hook for a non-optional model field: ``null`` gives the model's default instance."""
    hook = _hook_for(t)

    def structure_or_default(value: Any, _: Any) -> Any:
        return t() if value is None else hook(value, t)

    return structure_or_default


def _cattrs_structure_fn(cls: type[Any]) -> StructureHook:
    """cattrs' own structuring, for classes the generated functions do not cover."""
    overrides = _renames(cls)
    # Generated models make every nested object optional; hand-made ones may not.
    for a in attrs.fields(attrs.resolve_types(cls)):
        if isinstance(a.type, type) and attrs.has(a.type):
            overrides[a.name] = override(rename=_wire_key(a), struct_hook=_null_to_default(a.type))
    return make_dict_structure_fn(
        cls,
        converter,
        _cattrs_forbid_extra_keys=False,
        _cattrs_detailed_validation=False,
        **overrides,
    )


# --- structuring attrs classes ------------------------------------------------------
# One straight-line function per class, generated on first use: each field is read
# with one ``dict.get``, scalars are checked inline, and the instance is filled
# through its slot descriptors, skipping the keyword-argument ``__init__`` (which
# costs as much again). Classes whose ``__init__`` does more than store the fields
# (converters, validators, post-init hooks, extra slots) are built through it.

_SCALAR_CHECK: Final[dict[Any, str]] = {str: "str", int: "int", float: "float", bool: "bool"}


def _slot_setters(cls: type[Any], fields: tuple[attrs.Attribute[Any], ...]) -> list[Any] | None:
    """The slot descriptors' ``__set__`` of every field, or ``None`` if ``__init__`` is needed."""
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        return None
    names = {a.name for a in fields}
    slots: set[str] = set()
    for klass in cls.__mro__:
        slots.update(klass.__dict__.get("__slots__", ()))
    if slots - names - {"__weakref__", RAW_SLOT}:  # e.g. attrs' hash cache
        return None
    setters = []
    for a in fields:
        if not a.init or a.converter is not None or a.validator is not None:
            return None
        descriptor = _member_of(cls, a.name)
        if not isinstance(descriptor, MemberDescriptorType):
            return None
        setters.append(descriptor.__set__)
    return setters


def _null_value(t: Any) -> Any:
    """What ``null`` structures into for type ``t`` (``_UNKNOWN`` when a hook decides)."""
    if t in _ZERO:
        return _ZERO[t]
    if t is Any or _is_optional(t):
        return None
    if _is_list(t):
        return []
    if _is_dict(t):
        return {}
    return _UNKNOWN


_UNKNOWN: Final = object()
_MISSING: Final = object()
# Nested parts structured on first access (see ``_LazySlot``), and string lists
# and maps kept as decoded when every item is a string (see ``_all_strings_test``);
# tests switch them off to compare against plain structuring.
LAZY = True
KEEP_DECODED_STRINGS = True


def _default_of(a: attrs.Attribute[Any]) -> Any:
    default: Any = a.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return _UNKNOWN if default is attrs.NOTHING else default


# --- nested parts structured on first access ----------------------------------------
# A field holding objects (a model, an optional model, a list or map of models) is
# left unset when the instance is built, and the decoded JSON object the instance
# came from is kept in its ``_raw`` slot (one reference, no copy): most callers look
# at a few fields of an inspect or a listing, and the nested parts were most of the
# structuring cost. The class's slot descriptor is wrapped once by ``_LazySlot``,
# which structures the part from ``_raw`` on first read and stores the result, so
# every later read, ``==``, ``repr``, ``hash``, pickling and ``attrs.evolve`` see
# exactly what eager structuring gave. Nothing is allocated per lazy field until it
# is read.

#: The slot (declared by the models' base class) holding the decoded JSON object.
RAW_SLOT: Final = "_raw"

# A lazy field's resolver (structures a non-null value) and what null gives.
_LazyPlan = tuple[Callable[[Any], Any], Callable[[], Any]]


class _LazySlot:
    """Wraps a slot descriptor: an unset slot is structured from ``_raw`` on first read."""

    __slots__ = ("_get", "_member", "_owner", "_raw", "_set", "empty", "key", "name", "resolve")

    def __init__(self, member: Any, owner: type[Any], raw: Any, key: str, plan: _LazyPlan) -> None:
        self._member = member
        self._get = member.__get__
        self._set = member.__set__
        self._raw = raw.__get__
        self._owner = owner
        self.name = member.__name__
        self.key = key  # the wire key
        # The function structuring a non-null value, and what null gives (a fresh
        # [] or {}, or None).
        self.resolve, self.empty = plan

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        try:
            return self._get(obj, owner)
        except AttributeError:
            # Not read yet; an instance built by __init__ has every field set, and
            # one with neither the field nor ``_raw`` re-raises the AttributeError.
            raw = self._raw(obj, owner)
        value = raw.get(self.key)
        if value is None:
            value = self.empty()
        else:
            try:
                value = self.resolve(value)
            except Exception as exc:
                from .errors import ResponseValidationError

                # The call has returned by now: method and path are not known here.
                model = f"{self._owner.__name__}.{self.name}"
                raise ResponseValidationError("", "", model, exc) from exc
        self._set(obj, value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        self._set(obj, value)

    def __delete__(self, obj: Any) -> None:
        self._member.__delete__(obj)


def _none() -> None:
    return None


def _member_of(cls: type[Any], name: str) -> Any:
    """The slot's member descriptor of ``name`` (under any ``_LazySlot`` wrapping it)."""
    member = next((k.__dict__[name] for k in cls.__mro__ if name in k.__dict__), None)
    return member._member if isinstance(member, _LazySlot) else member


def _nested_resolver(t: Any) -> Callable[[Any], Any] | None:
    """For a field type holding objects, the function structuring its non-null raw value."""
    inner = _optional_arg(t)
    target = t if inner is None else inner
    # The nested class's own function is generated on first use too: a first
    # inspect compiles one function, not one per class it could reach.
    if isinstance(target, type) and attrs.has(target):
        hooks: list[StructureHook] = []

        def resolve_model(raw: Any) -> Any:
            if not hooks:
                hooks.append(_hook_for(target))
            return hooks[0](raw, target)

        return resolve_model
    args = get_args(target)
    if inner is None and _is_list(target) and args and attrs.has(args[0]):
        elem = args[0]
        elem_hooks: list[StructureHook] = []

        def resolve_list(raw: Any) -> list[Any]:
            if not elem_hooks:
                elem_hooks.append(_hook_for(elem))
            hook = elem_hooks[0]
            return [hook(e, elem) for e in raw if e is not None]

        return resolve_list
    if (
        inner is None
        and _is_dict(target)
        and len(args) == 2
        and args[0] in (Any, str)
        and attrs.has(args[1])
    ):
        val = args[1]
        val_hooks: list[StructureHook] = []

        def resolve_dict(raw: Any) -> dict[Any, Any]:
            if not val_hooks:
                val_hooks.append(_hook_for(val))
            hook = val_hooks[0]
            return {k: hook(e, val) for k, e in raw.items()}

        return resolve_dict
    return None


def _lazy_field(a: attrs.Attribute[Any], t: Any) -> _LazyPlan | None:
    """For a field structured on first access: its resolver and what null gives."""
    if _default_of(a) != _null_value(t) or type(_default_of(a)) is not type(_null_value(t)):
        return None
    resolve = _nested_resolver(t)
    if resolve is None:
        return None
    if _is_optional(t):
        return resolve, _none
    if _is_list(t):
        return resolve, list
    if _is_dict(t):
        return resolve, dict
    return None


def _field_lines(a: attrs.Attribute[Any], t: Any, i: int, ns: dict[str, Any]) -> list[str]:
    """Statements leaving the structured value of field ``a`` (of type ``t``) in ``v{i}``."""
    key, v = _wire_key(a), f"v{i}"
    default = _default_of(a)
    null = _null_value(t)
    # A missing key means the default; when the default is what null gives, one
    # dict.get covers both.
    if null is not _UNKNOWN and type(default) is type(null) and default == null:
        lines = [f"{v} = get({key!r})"]
    else:
        ns[f"default{i}"] = a.default
        if a.default is attrs.NOTHING:
            fetch = f"{v} = data[{key!r}]"  # required: KeyError names the key
        elif isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            fetch = f"{v} = default{i}.factory()"
        else:
            fetch = f"{v} = default{i}"
        lines = [f"{v} = get({key!r}, _MISSING)", f"if {v} is _MISSING:", f"    {fetch}"]
        convert = _convert_lines(t, v, i, ns)
        return lines + (["else:"] + ["    " + line for line in convert] if convert else [])
    return lines + _convert_lines(t, v, i, ns)


def _convert_lines(t: Any, v: str, i: int, ns: dict[str, Any]) -> list[str]:
    """Statements turning the raw JSON value in ``v`` into type ``t``, in place."""
    scalar = _SCALAR_CHECK.get(t)
    if scalar is not None:
        ns[f"hook{i}"] = _SCALAR_HOOKS[t]
        return [f"if {v}.__class__ is not {scalar}:", f"    {v} = hook{i}({v}, None)"]
    if t is Any:
        return []
    inner = _optional_arg(t)
    if inner is not None:
        scalar = _SCALAR_CHECK.get(inner)
        if scalar is not None:
            ns[f"hook{i}"] = _SCALAR_HOOKS[inner]
            test = f"{v} is not None and {v}.__class__ is not {scalar}"
            return [f"if {test}:", f"    {v} = hook{i}({v}, None)"]
        if inner is Any:
            return []
        expr = _collection_expr(inner, v, i, ns)
        if expr is None:
            ns[f"hook{i}"], ns[f"type{i}"] = _hook_for(inner), inner
            expr = f"hook{i}({v}, type{i})"
        return [f"if {v} is not None:", f"    {v} = {expr}"]
    expr = _collection_expr(t, v, i, ns)
    if expr is not None:
        # The daemon sends null for most empty collections.
        empty = "[]" if _is_list(t) else "{}"
        strings = _all_strings_test(t, v) if KEEP_DECODED_STRINGS else None
        if strings is None:
            return [f"{v} = {empty} if {v} is None else {expr}"]
        # Names, labels, options: nearly always all strings as decoded, and then the
        # decoded list or map itself goes into the model instead of a copy (decoded
        # answers are not handed to anyone else).
        ns["join"] = "".join
        return [
            f"if {v} is None:",
            f"    {v} = {empty}",
            f"elif {strings[0]}:",
            "    try:",
            f"        {strings[1]}",
            "    except TypeError:",
            f"        {v} = {expr}",
            "else:",
            f"    {v} = {expr}",
        ]
    ns[f"hook{i}"], ns[f"type{i}"] = _hook_for(t), t
    if isinstance(t, type) and attrs.has(t):
        # A non-optional nested model: null gives its default instance.
        return [f"{v} = type{i}() if {v} is None else hook{i}({v}, type{i})"]
    return [f"{v} = hook{i}({v}, type{i})"]


def _all_strings_test(t: Any, v: str) -> tuple[str, str] | None:
    """For ``list[str]`` or ``dict[str, str]``: a test that ``v`` has the right container
    type, and a statement raising ``TypeError`` unless every item is a ``str``.

    ``str.join`` checks every item in C, several times faster than a comprehension.
    """
    args = get_args(t)
    if _is_list(t) and args == (str,):
        return f"{v}.__class__ is list", f"join({v})"
    if _is_dict(t) and args == (str, str):
        return f"{v}.__class__ is dict", f"join({v}.values())"
    return None


def _collection_expr(t: Any, v: str, i: int, ns: dict[str, Any]) -> str | None:
    """An inline expression structuring the non-null list or map in ``v``, or ``None``.

    Same results as the list and dict hooks above, one call less per field.
    """
    args = get_args(t)
    if _is_list(t):
        elem: Any = args[0] if args else Any
        build = "[{item} for e in {v}{where}]"
    elif _is_dict(t) and (not args or args[0] in (Any, str)):
        elem = args[1] if len(args) > 1 else Any
        build = "{{k: {item} for k, e in {v}.items()}}"
    else:
        return None
    if elem is Any:
        return f"list({v})" if _is_list(t) else f"dict({v})"
    where = ""
    if elem in _SCALAR_CHECK:
        ns[f"elem{i}"] = _SCALAR_HOOKS[elem]
        item = f"e if e.__class__ is {_SCALAR_CHECK[elem]} else elem{i}(e, None)"
    else:
        ns[f"elem{i}"], ns[f"etype{i}"] = _hook_for(elem), elem
        item = f"elem{i}(e, etype{i})"
        if _is_list(t) and attrs.has(elem):
            where = " if e is not None"  # a null item of a list of objects carries nothing
    return build.format(item=item, v=v, where=where)


# Annotations are strings (``from __future__ import annotations``) and typing
# compiles each one anew: that was most of the cost of a first structuring. The
# same few strings repeat across a module's classes, so each is evaluated once
# per module.
_ANNOTATIONS: dict[tuple[str, str], Any] = {}


def _field_types(cls: type[Any], fields: tuple[attrs.Attribute[Any], ...]) -> list[Any]:
    types = []
    for a in fields:
        t = a.type
        if isinstance(t, str):
            # An inherited field's annotation belongs to the module of its class.
            owner = cls
            if a.inherited:
                owner = next(k for k in cls.__mro__ if a.name in inspect.get_annotations(k))
            key = (owner.__module__, t)
            if key not in _ANNOTATIONS:
                _ANNOTATIONS[key] = eval(t, vars(sys.modules[owner.__module__]))
            t = _ANNOTATIONS[key]
        types.append(Any if t is None else t)
    return types


def _attrs_structure_factory(cls: type[Any]) -> StructureHook:
    fields = attrs.fields(cls)
    if any(getattr(a.default, "takes_self", False) for a in fields):
        return _cattrs_structure_fn(cls)
    try:
        types = _field_types(cls, fields)
    except Exception:  # e.g. a name only the class body knows: let typing resolve it
        types = [a.type for a in attrs.fields(attrs.resolve_types(cls))]
    ns: dict[str, Any] = {"cls": cls, "_MISSING": _MISSING, "new": object.__new__}
    body = ["get = data.get"]
    setters = _slot_setters(cls, fields)
    raw_slot = _member_of(cls, RAW_SLOT) if setters is not None and LAZY else None
    lazy: dict[int, _LazyPlan] = {}
    for i, a in enumerate(fields):
        if not a.init:  # init=False fields are the class's own business
            continue
        found = _lazy_field(a, types[i]) if isinstance(raw_slot, MemberDescriptorType) else None
        if found is None:
            body += _field_lines(a, types[i], i, ns)
        else:
            lazy[i] = found
    for i, plan in lazy.items():
        name, key = fields[i].name, _wire_key(fields[i])
        slot = cls.__dict__.get(name)
        if isinstance(slot, _LazySlot):  # the class's function was generated before
            slot.key, (slot.resolve, slot.empty) = key, plan
        else:
            setattr(cls, name, _LazySlot(_member_of(cls, name), cls, raw_slot, key, plan))
    if setters is None:
        args = ", ".join(f"{a.alias}=v{i}" for i, a in enumerate(fields) if a.init)
        body.append(f"return cls({args})")
    else:
        body.append("self = new(cls)")
        for i, setter in enumerate(setters):
            if i not in lazy:
                ns[f"set{i}"] = setter
                body.append(f"set{i}(self, v{i})")
        if lazy:
            ns["set_raw"] = raw_slot.__set__  # type: ignore[union-attr]
            body.append("set_raw(self, data)")
        body.append("return self")
    name = f"structure_{cls.__name__}"
    source = f"def {name}(data, _):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(source, f"<aiodock structure {cls.__module__}.{cls.__qualname__}>", "exec"), ns)
    return ns[name]  # type: ignore[no-any-return]


def _attrs_unstructure_factory(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    return make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=True, **_renames(cls))


# Later registrations take precedence over cattrs' built-in handling.
converter.register_structure_hook_factory(_is_list, _list_factory)
converter.register_structure_hook_factory(_is_dict, _dict_factory)
converter.register_structure_hook_factory(_is_optional, _optional_factory)
converter.register_structure_hook_factory(attrs.has, _attrs_structure_factory)
converter.register_unstructure_hook_factory(attrs.has, _attrs_unstructure_factory)


# --- public helpers ----------------------------------------------------------------


def structure(data: Any, cls: type[T]) -> T:
    """Build a ``cls`` instance from decoded JSON (``null``-tolerant, unknown keys ignored)."""
    return converter.structure(data, cls)


def structure_list(data: Any, cls: type[T]) -> list[T]:
    """Build a list of ``cls`` from a decoded JSON array.

    ``None`` gives ``[]`` and ``null`` items are skipped.
    """
    if data is None:
        return []
    hook = converter.get_structure_hook(cls)
    return [hook(item, cls) for item in data if item is not None]


def unstructure(obj: Any, *, keep: Iterable[str] = ()) -> Any:
    """Turn a model (or list/dict of models) into wire-keyed JSON-ready data.

    Attributes equal to their default are left out, recursively, except those
    named in ``keep`` (attribute names, dotted for nested models such as
    ``"templating.options"``): a request body sends them even at their default,
    where the daemon reads a missing key differently or callers rely on seeing it.
    """
    data = converter.unstructure(obj)
    for path in keep:
        _keep(obj, data, path.split("."))
    return data


def _keep(obj: Any, data: dict[str, Any], names: list[str]) -> None:
    field = attrs.fields_dict(type(obj))[names[0]]
    value = getattr(obj, names[0])
    if len(names) == 1:
        data[_wire_key(field)] = converter.unstructure(value)
    elif value is not None:
        _keep(value, data.setdefault(_wire_key(field), {}), names[1:])


# --- JSON -------------------------------------------------------------------------


def _stdlib_dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


if _orjson is not None:
    _orjson_dumps = _orjson.dumps
    _orjson_loads = _orjson.loads

    def json_dumps(obj: Any) -> bytes:
        """Encode ``obj`` as compact UTF-8 JSON **bytes** (orjson when installed)."""
        try:
            return cast(bytes, _orjson_dumps(obj))
        except TypeError:  # e.g. non-str keys or ints beyond 64 bits
            return _stdlib_dumps(obj)

    def json_loads(data: bytes | bytearray | memoryview | str) -> Any:
        """Decode JSON from bytes or str (orjson when installed)."""
        return _orjson_loads(data)

else:  # pragma: no cover - depends on the environment

    def json_dumps(obj: Any) -> bytes:
        """Encode ``obj`` as compact UTF-8 JSON **bytes** (orjson when installed)."""
        return _stdlib_dumps(obj)

    def json_loads(data: bytes | bytearray | memoryview | str) -> Any:
        """Decode JSON from bytes or str (orjson when installed)."""
        if isinstance(data, memoryview):
            data = data.tobytes()
        return json.loads(data)


# --- times --------------------------------------------------------------------------

_TIME_RE: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$"
)


def parse_time(value: str | None) -> datetime | None:
    """Parse a daemon timestamp (RFC 3339, nanoseconds) into an aware ``datetime``.

    Empty strings and Go's zero time (``0001-01-01T00:00:00Z``, which the daemon
    sends for "never") give ``None``. Precision is cut to microseconds; keep the
    string if you need the nanoseconds.
    """
    if not value or value.startswith("0001-01-01"):
        return None
    m = _TIME_RE.match(value)
    if m is None:
        raise ValueError(f"not a daemon timestamp: {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac, zone = m.group(7), m.group(8)
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
