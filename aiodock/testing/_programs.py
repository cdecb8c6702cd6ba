"""The tiny program interpreter: what the fake's containers, execs and classic-build ``RUN``
steps pretend to run."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["Forever", "run_argv"]


Write = Callable[[int, bytes], Awaitable[None]]
Read = Callable[[], Awaitable[bytes]]
Sleep = Callable[[float], Awaitable[None]]


class Forever(Exception):
    """The program does not end on its own (a server, ``sleep infinity``)."""


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def _split_script(script: str) -> list[list[str]]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|>")
    lexer.whitespace_split = True
    statements: list[list[str]] = [[]]
    for token in lexer:
        if token in (";", "&&", "||", "&", "|"):
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


async def run_argv(
    argv: Sequence[str],
    *,
    write: Write,
    read: Read,
    sleep: Sleep,
    unknown_runs_forever: bool,
    stdin_open: bool,
) -> int:
    """Pretend to run ``argv``; understands echo, printf, cat, true, false, exit,
    sleep and ``sh -c`` scripts made of those. Returns the exit code.

    Raises :class:`Forever` for programs that would not end on their own.
    """
    if not argv:
        return 0
    prog = argv[0].rsplit("/", 1)[-1]
    args = list(argv[1:])
    if prog in ("sh", "bash", "ash") and len(args) >= 2 and args[0] == "-c":
        code = 0
        for statement in _split_script(args[1]):
            if statement[0] == "exit":
                return int(statement[1]) if len(statement) > 1 else code
            code = await run_argv(
                statement,
                write=write,
                read=read,
                sleep=sleep,
                unknown_runs_forever=unknown_runs_forever,
                stdin_open=stdin_open,
            )
        return code
    stream = 1
    if args and args[-1] in (">&2", "1>&2"):
        args, stream = args[:-1], 2
    elif len(args) >= 2 and args[-2] == ">&" and args[-1] == "2":
        args, stream = args[:-2], 2
    if prog == "echo":
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        await write(stream, (" ".join(args) + ("\n" if newline else "")).encode())
        return 0
    if prog == "printf":
        if args:
            await write(stream, _unescape(args[0]).replace("%%", "%").encode())
        return 0
    if prog == "true":
        return 0
    if prog == "false":
        return 1
    if prog == "exit":
        return int(args[0]) if args else 0
    if prog == "sleep":
        if not args or args[0] in ("infinity", "inf"):
            raise Forever
        try:
            await sleep(float(args[0].rstrip("s")))
        except ValueError:
            return 1
        return 0
    if (prog == "cat" and not args) or (prog in ("sh", "bash", "ash") and not args):
        if not stdin_open:
            return 0
        while True:
            chunk = await read()
            if not chunk:
                return 0
            await write(1, chunk)
    if unknown_runs_forever:
        raise Forever
    return 0
