"""What every string and number passes before it becomes an event.

An event is stored for good and replayed into every view, so input a view cannot hold (a NUL byte
that Postgres text refuses, an integer wider than its column) is refused here, with a message for
the field, and never recorded. Text is NFC-normalised; one-line fields refuse every line break
`str.splitlines()` knows; names and handles lose the invisible characters that let one name pose as
another (bidi controls, zero-width characters).
"""

from __future__ import annotations

import unicodedata

from cookout.domain.errors import InvalidInput

# What the views' Postgres columns hold: `integer` (int4) and `bigint` (int8).
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1

# Every line break `str.splitlines()` splits on.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
INVISIBLE = BIDI_CONTROLS | ZERO_WIDTH


def _refused(character: str, one_line: bool) -> bool:
    if character in LINE_BREAKS:
        return one_line or character not in "\n\u2028\u2029"
    if character == "\t":
        return False
    # Cc: the C0 and C1 controls and DEL; Cs: lone surrogates, which no encoding can store.
    return unicodedata.category(character) in ("Cc", "Cs")


def clean_text(value: str, field: str, *, one_line: bool, max_length: int | None = None,
               what: str = "This") -> str:
    """`value` NFC-normalised and stripped, or InvalidInput for `field` when it holds a control
    character, a line break in a one-line field, or more than `max_length` characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text.", field=field)
    # Browsers send a textarea's line breaks as CRLF: kept as plain newlines.
    text = value if one_line else value.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text).strip()
    if one_line and any(character in LINE_BREAKS for character in text):
        raise InvalidInput(f"{what} must be a single line.", field=field)
    if any(_refused(character, one_line) for character in text):
        raise InvalidInput(f"{what} contains invisible control characters; remove them and try again.",
                           field=field)
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(f"{what} can't be longer than {max_length:,} characters.", field=field)
    return text


def clean_name(value: str, field: str, *, max_length: int | None = None, what: str = "The name") -> str:
    """A one-line name or handle, without the bidi controls and zero-width characters that would
    make it read as something else."""
    text = clean_text(value, field, one_line=True, what=what)
    visible = "".join(character for character in text if character not in INVISIBLE).strip()
    return clean_text(visible, field, one_line=True, max_length=max_length, what=what)


def clean_int(value: int, field: str, *, minimum: int = 0, maximum: int = INT4_MAX,
              what: str = "The number") -> int:
    """`value` when it is a whole number that fits its column, from `minimum` to `maximum`."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(f"{what} must be a whole number of at least {minimum:,} and at most {maximum:,}.",
                           field=field)
    return value


def storable(value: str) -> bool:
    """Whether Postgres can hold `value` at all: a lookup by anything else can match no row."""
    return "\x00" not in value and not any(unicodedata.category(c) == "Cs" for c in value)
