"""A small, strict BER-TLV reader and writer for the LDS data groups.

ISO/IEC 7816-4 §5.2 (BER-TLV data objects) as used by ICAO Doc 9303 part 10 §4.6–§4.7 (EF.COM,
EF.SOD and the data groups are BER-TLV objects with **definite** lengths), X.690 §8.1 for the
tag and length octets.

What the reader enforces — every violation raises :class:`~dancu.errors.DomainValidationError`
naming the file being read (``field``) and the rule:

* ``truncated`` — a tag, a length or a value runs past the end of the data;
* ``tag_too_long`` — a tag of more than :data:`MAX_TAG_BYTES` octets (LDS tags have 1–2);
* ``indefinite_length`` — the length octet ``0x80`` (indefinite form, BER only; the LDS uses
  definite lengths);
* ``length_too_long`` — a long-form length of more than :data:`MAX_LENGTH_BYTES` octets
  (ISO/IEC 7816-4 allows up to four) or the reserved octet ``0xFF``;
* ``trailing_bytes`` — bytes left over after the object(s) a caller expects;
* ``unexpected_tag`` — the object is not the one the caller asked for.

Lengths are checked against the bytes actually present before anything is sliced, so a forged
length can never make the reader allocate or loop more than the input size allows.
"""

from __future__ import annotations

from typing import NamedTuple

from dancu.errors import DomainValidationError

MAX_TAG_BYTES = 4
MAX_LENGTH_BYTES = 4


class Tlv(NamedTuple):
    """One data object: the tag as an integer of its octets (``0x5F1F``), the value octets.

    A named tuple rather than a frozen dataclass: it is created for every object read, and
    tuple construction is several times cheaper (the passive-authentication benchmark).
    """

    tag: int
    value: bytes
    constructed: bool

    def children(self, *, field: str) -> list[Tlv]:
        """The data objects inside a constructed object (X.690 §8.1.1: contents are TLVs)."""
        if not self.constructed:
            raise DomainValidationError.single(
                field, "not_constructed", f"tag {self.tag:#x} is primitive, expected nested objects"
            )
        return read_all(self.value, field=field)


def read_tlv(data: bytes, offset: int = 0, *, field: str) -> tuple[Tlv, int]:
    """Read the object that starts at ``offset``; return it and the offset just after it.

    X.690 §8.1.2 (identifier octets: tag number ``0x1F`` in the first octet means the number
    continues while bit 8 is set) and §8.1.3 (length octets: short form < 128, long form
    ``0x80 | n`` followed by *n* octets).
    """
    end = len(data)
    if offset >= end:
        raise DomainValidationError.single(field, "truncated", f"no tag at offset {offset}: data ends")
    first = data[offset]
    tag = first
    pos = offset + 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= end:
                raise DomainValidationError.single(field, "truncated", f"tag at offset {offset} is cut off")
            octet = data[pos]
            tag = (tag << 8) | octet
            pos += 1
            if pos - offset > MAX_TAG_BYTES:
                raise DomainValidationError.single(
                    field, "tag_too_long", f"tag at offset {offset} is longer than {MAX_TAG_BYTES} octets"
                )
            if not octet & 0x80:
                break
    if pos >= end:
        raise DomainValidationError.single(field, "truncated", f"no length after tag {tag:#x}")
    length = data[pos]
    pos += 1
    if length == 0x80:
        raise DomainValidationError.single(
            field,
            "indefinite_length",
            f"tag {tag:#x} uses the indefinite length form (not allowed in the LDS)",
        )
    if length > 0x80:
        count = length & 0x7F
        if count > MAX_LENGTH_BYTES:
            raise DomainValidationError.single(
                field,
                "length_too_long",
                f"length of tag {tag:#x} has {count} octets (at most {MAX_LENGTH_BYTES})",
            )
        if pos + count > end:
            raise DomainValidationError.single(field, "truncated", f"length of tag {tag:#x} is cut off")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if length > end - pos:
        raise DomainValidationError.single(
            field,
            "truncated",
            f"tag {tag:#x} declares {length} value octets but only {end - pos} remain",
        )
    return Tlv(tag, data[pos : pos + length], bool(first & 0x20)), pos + length


def read_all(data: bytes, *, field: str) -> list[Tlv]:
    """Read consecutive objects that fill ``data`` exactly."""
    items: list[Tlv] = []
    append = items.append
    new = tuple.__new__
    pos = 0
    end = len(data)
    while pos < end:
        # Fast path for the common case — one-octet tag, short-form length, value present —
        # with the same checks as read_tlv; anything else goes through read_tlv.
        first = data[pos]
        if first & 0x1F != 0x1F and pos + 1 < end:
            length = data[pos + 1]
            start = pos + 2
            if length < 0x80 and start + length <= end:
                pos = start + length
                append(new(Tlv, (first, data[start:pos], bool(first & 0x20))))
                continue
        item, pos = read_tlv(data, pos, field=field)
        append(item)
    return items


def read_one(data: bytes, *, field: str, tag: int | None = None) -> Tlv:
    """Read exactly one object filling ``data``; if ``tag`` is given it must be that tag."""
    item, end = read_tlv(data, 0, field=field)
    if tag is not None and item.tag != tag:
        raise DomainValidationError.single(
            field, "unexpected_tag", f"expected tag {tag:#x}, found {item.tag:#x}"
        )
    if end != len(data):
        raise DomainValidationError.single(
            field, "trailing_bytes", f"{len(data) - end} bytes follow the object with tag {item.tag:#x}"
        )
    return item


def encode_length(length: int) -> bytes:
    """Definite length octets in the shortest form (X.690 §8.1.3.2, §10.1 DER)."""
    if length < 0:
        raise ValueError("length must not be negative")
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(octets) > MAX_LENGTH_BYTES:
        raise ValueError(f"length {length} needs more than {MAX_LENGTH_BYTES} octets")
    return bytes([0x80 | len(octets)]) + octets


def encode_tag(tag: int) -> bytes:
    """The identifier octets of ``tag`` (an integer of its octets, e.g. ``0x5F1F``)."""
    if tag < 0:
        raise ValueError("tag must not be negative")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    """One data object with a definite, minimal length."""
    return encode_tag(tag) + encode_length(len(value)) + value


def encode_integer(value: int) -> bytes:
    """A DER INTEGER (X.690 §8.3: two's complement, minimal octets)."""
    size = max(1, (value.bit_length() + 8) // 8)
    return encode_tlv(0x02, value.to_bytes(size, "big", signed=True))


def decode_integer(item: Tlv, *, field: str) -> int:
    """The value of an INTEGER object (tag 0x02); at most 8 octets (LDS integers are small)."""
    if item.tag != 0x02:
        raise DomainValidationError.single(
            field, "unexpected_tag", f"expected INTEGER, found tag {item.tag:#x}"
        )
    if not 1 <= len(item.value) <= 8:
        raise DomainValidationError.single(
            field, "integer_length", f"INTEGER must have 1–8 octets, has {len(item.value)}"
        )
    return int.from_bytes(item.value, "big", signed=True)


def encode_oid(dotted: str) -> bytes:
    """A DER OBJECT IDENTIFIER (X.690 §8.19: first two arcs as 40·a + b, then base-128 arcs)."""
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39) or min(arcs) < 0:
        raise ValueError(f"{dotted!r} is not a valid object identifier")
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return encode_tlv(0x06, bytes(out))


def decode_oid(item: Tlv, *, field: str) -> str:
    """The dotted form of an OBJECT IDENTIFIER object (tag 0x06), X.690 §8.19."""
    if item.tag != 0x06:
        raise DomainValidationError.single(
            field, "unexpected_tag", f"expected OBJECT IDENTIFIER, found tag {item.tag:#x}"
        )
    data = item.value
    if not data or data[-1] & 0x80 or len(data) > 64:
        raise DomainValidationError.single(field, "oid", "malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for i, octet in enumerate(data):
        if value == 0 and octet == 0x80 and (i == 0 or not data[i - 1] & 0x80):
            raise DomainValidationError.single(field, "oid", "OBJECT IDENTIFIER arc has a leading 0x80 octet")
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])
