"""One check for names that end up in a URL, an argv, a header or a file name.

NUL, the other C0 controls and DEL have no place in any of them (``subprocess``
and ``socket`` raise a bare ``ValueError`` on NUL), and text that UTF-8 cannot
encode (a lone surrogate) fails in ``urllib``, ``subprocess`` or ``hashlib``.
Callers turn the reason into ``InvalidArgument`` or ``ConfigError``.
"""

from __future__ import annotations

import os
import re

__all__ = ["has_control", "unusable"]

#: Finds NUL, the other C0 controls or DEL in a string.
has_control = re.compile(r"[\x00-\x1f\x7f]").search


def unusable(value: str, *, os_path: bool = False) -> str | None:
    """Why ``value`` cannot be used as a name, or ``None`` when it can.

    With ``os_path`` the text only has to pass :func:`os.fsencode` (which takes
    the surrogate escapes of undecodable file names), as paths and argv do.
    """
    if has_control(value):
        return "must not contain control characters (0x00-0x1f, 0x7f)"
    try:
        os.fsencode(value) if os_path else value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be encodable text (it holds a lone surrogate)"
    return None
