"""Structure JSON answers the way aiodock did before nested parts became lazy.

``eager_forms`` runs a fresh interpreter with ``aiodock._convert.LAZY`` and
``KEEP_DECODED_STRINGS`` off (every nested part structured at once, every string list
and map copied item by item), structures each file of a directory into its model
and returns the fully resolved form of each (``attrs.asdict`` recursing into every
nested model, as a ``repr``). ``resolved_form`` gives the same form in this process,
so lazy and eager results of the same answers can be compared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs

_SCRIPT = """
import json, sys, attrs
from pathlib import Path
import aiodock._convert as c
c.LAZY = False
c.KEEP_DECODED_STRINGS = False
from aiodock import models
from aiodock._convert import structure, structure_list
out = {}
for name, (cls_name, many) in json.loads(sys.argv[1]).items():
    text = (Path(sys.argv[2]) / name).read_text()
    lines = [json.loads(x) for x in text.splitlines() if x.strip()]
    data = lines if name.endswith(".jsonl") else json.loads(text)
    cls = getattr(models, cls_name)
    got = structure_list(data, cls) if many else structure(data, cls)
    if any(isinstance(v, c._LazySlot) for v in vars(cls).values()):
        sys.exit(f"{cls_name} has lazy fields although LAZY is off")
    out[name] = repr([attrs.asdict(m) for m in got] if many else attrs.asdict(got))
print(json.dumps(out))
"""


def eager_forms(cases: dict[str, tuple[type[Any], bool]], directory: Path) -> dict[str, str]:
    """``{file name: resolved form}`` for ``cases`` (file name -> (model, is a list))."""
    names = {name: (cls.__name__, many) for name, (cls, many) in cases.items()}
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(names), str(directory)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    result: dict[str, str] = json.loads(proc.stdout)
    return result


def resolved_form(value: Any) -> str:
    """The fully resolved form of a model or a list of models (reads every nested part)."""
    if isinstance(value, list):
        return repr([attrs.asdict(m) for m in value])
    return repr(attrs.asdict(value))
