"""Vietnamese mobile numbers as people type them: "0912 345 678", "+84912345678", "84-912-345-678".

Only mobile numbers are accepted (a volunteer calls or texts back); landlines (02x…) and anything else
are refused so the person can correct it. Stored in one form, 10 digits starting with 0.
"""

from __future__ import annotations

import re
import unicodedata

# Mobile prefixes in use since the 2018 renumbering (03x, 05x, 07x, 08x, 09x).
_MOBILE = re.compile(r"0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}")
_SEPARATORS = re.compile(r"[\s.\-()]+")


def normalise_phone(text: str) -> str | None:
    """The number as 0xxxxxxxxx, or None if it is not a Vietnamese mobile number."""
    raw = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).strip())
    if len(raw) > 16:
        return None
    if raw.startswith("+84"):
        raw = "0" + raw[3:]
    elif raw.startswith("0084"):
        raw = "0" + raw[4:]
    elif raw.startswith("84") and len(raw) == 11:
        raw = "0" + raw[2:]
    elif len(raw) == 9 and raw[0] in "35789":  # typed without the leading 0
        raw = "0" + raw
    if raw.startswith("00"):  # "+84 0912…": the 0 typed twice
        raw = raw[1:]
    return raw if raw.isascii() and _MOBILE.fullmatch(raw) else None


def shown(phone: str) -> str:
    """0912345678 → 0912 345 678 (easier to read out and to dial)."""
    return f"{phone[:4]} {phone[4:7]} {phone[7:]}" if len(phone) == 10 else phone
