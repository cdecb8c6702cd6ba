"""A small protobuf (proto3) wire codec for the handful of BuildKit session messages.

Hand-written instead of generated code so that a BuildKit build needs no
``protobuf`` runtime: the session uses a dozen flat messages. Field numbers
follow the upstream interface definitions (NOTICE: tonistiigi/fsutil
``types/wire.proto``, ``types/stat.proto``, MIT; moby/buildkit
``session/{filesync,secrets,auth,sshforward}`` and
``api/services/control/control.proto``, Apache-2.0); the code is our own.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

__all__ = [
    "PACKET_DATA",
    "PACKET_ERR",
    "PACKET_FIN",
    "PACKET_REQ",
    "PACKET_STAT",
    "DecodeError",
    "Packet",
    "Stat",
    "bytes_field",
    "decode_packet",
    "decode_stat",
    "encode_packet",
    "encode_stat",
    "fields",
    "first",
    "int_field",
    "string_field",
    "varint",
]

# fsutil.types.Packet.PacketType
PACKET_STAT = 0
PACKET_REQ = 1
PACKET_DATA = 2
PACKET_FIN = 3
PACKET_ERR = 4

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_U64 = 1 << 64


class DecodeError(ValueError):
    """The bytes are not a well-formed protobuf message."""


# One-byte varints, made once: every STAT and DATA packet has several.
_SMALL = tuple(bytes((i,)) for i in range(0x80))


def varint(value: int) -> bytes:
    """Encode a non-negative int, or a negative int64 as its 10-byte two's complement."""
    if 0 <= value < 0x80:
        return _SMALL[value]
    if value < 0:
        value += _U64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return varint((number << 3) | wire)


# Keys of fields 1-15 (one byte each), by wire type.
_VARINT_KEYS = tuple(_key(n, _VARINT) for n in range(16))
_LEN_KEYS = tuple(_key(n, _LEN) for n in range(16))


def int_field(number: int, value: int) -> bytes:
    """A varint field; proto3 leaves zero out."""
    if not value:
        return b""
    key = _VARINT_KEYS[number] if number < 16 else _key(number, _VARINT)
    return key + varint(value)


def bytes_field(number: int, value: bytes, *, always: bool = False) -> bytes:
    """A length-delimited field (bytes, string, message); empty is left out unless ``always``."""
    if not value and not always:
        return b""
    key = _LEN_KEYS[number] if number < 16 else _key(number, _LEN)
    return key + varint(len(value)) + value


def string_field(number: int, value: str) -> bytes:
    return bytes_field(number, value.encode("utf-8", "surrogateescape"))


def _read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end or shift > 63:
            raise DecodeError("truncated or overlong varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Yield ``(field number, value)``: ints for varint/fixed fields, bytes for the rest."""
    pos = 0
    end = len(buf)
    while pos < end:
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise DecodeError("field number 0")
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
            yield number, value
        elif wire == _LEN:
            size, pos = _read_varint(buf, pos)
            if pos + size > end:
                raise DecodeError("truncated length-delimited field")
            yield number, bytes(buf[pos : pos + size])
            pos += size
        elif wire == _I64:
            if pos + 8 > end:
                raise DecodeError("truncated fixed64")
            yield number, int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == _I32:
            if pos + 4 > end:
                raise DecodeError("truncated fixed32")
            yield number, int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise DecodeError(f"unsupported wire type {wire}")


def signed(value: int) -> int:
    """An int64 read as an unsigned varint, back to its sign."""
    return value - _U64 if value >= 1 << 63 else value


def first(buf: bytes, number: int, default: int | bytes) -> int | bytes:
    """The last value of field ``number`` (proto3: the last one wins), else ``default``."""
    found = default
    for n, value in fields(buf):
        if n == number:
            found = value
    return found


def text(value: int | bytes) -> str:
    if isinstance(value, int):
        raise DecodeError("expected a string field, got a number")
    return value.decode("utf-8", "replace")


def number(value: int | bytes) -> int:
    if isinstance(value, bytes):
        raise DecodeError("expected a number field, got bytes")
    return value


# --- fsutil.types ----------------------------------------------------------------


@attrs.define
class Stat:
    """``fsutil.types.Stat``: one entry of a DiffCopy listing (``mode`` is Go's os.FileMode)."""

    path: str
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    mod_time: int = 0
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0


def encode_stat(stat: Stat) -> bytes:
    return b"".join(
        (
            string_field(1, stat.path),
            int_field(2, stat.mode),
            int_field(3, stat.uid),
            int_field(4, stat.gid),
            int_field(5, stat.size),
            int_field(6, stat.mod_time),
            string_field(7, stat.linkname),
            int_field(8, stat.devmajor),
            int_field(9, stat.devminor),
        )
    )


def decode_stat(buf: bytes) -> Stat:
    stat = Stat("")
    for n, value in fields(buf):
        if n == 1:
            stat.path = text(value)
        elif n == 2:
            stat.mode = number(value)
        elif n == 3:
            stat.uid = number(value)
        elif n == 4:
            stat.gid = number(value)
        elif n == 5:
            stat.size = signed(number(value))
        elif n == 6:
            stat.mod_time = signed(number(value))
        elif n == 7:
            stat.linkname = text(value)
        elif n == 8:
            stat.devmajor = signed(number(value))
        elif n == 9:
            stat.devminor = signed(number(value))
    return stat


@attrs.define
class Packet:
    """``fsutil.types.Packet``."""

    type: int
    stat: Stat | None = None
    id: int = 0
    data: bytes = b""


def encode_packet(
    type: int, *, stat: Stat | None = None, id: int = 0, data: bytes | memoryview = b""
) -> bytes:
    if type == PACKET_DATA and stat is None:
        # The bulk of a context: one join, no intermediate fields.
        return b"".join(
            (
                b"\x08\x02",
                b"\x18" + varint(id) if id else b"",
                b"\x22" + varint(len(data)) if data else b"",
                data,
            )
        )
    parts = [int_field(1, type)]
    if stat is not None:
        parts.append(bytes_field(2, encode_stat(stat), always=True))
    parts.append(int_field(3, id))
    if data:
        parts.append(_key(4, _LEN) + varint(len(data)))
        parts.append(bytes(data))
    return b"".join(parts)


def decode_packet(buf: bytes) -> Packet:
    packet = Packet(PACKET_STAT)
    for n, value in fields(buf):
        if n == 1:
            packet.type = number(value)
        elif n == 2:
            packet.stat = decode_stat(value if isinstance(value, bytes) else b"")
        elif n == 3:
            packet.id = number(value)
        elif n == 4:
            packet.data = value if isinstance(value, bytes) else b""
    return packet
