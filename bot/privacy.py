"""What must never be stored or asked for: citizen ID numbers, passwords, passcodes, OTPs.

One checker for every field a person types or a file carries (rating comments, visit names and notes,
roster names and addresses), so the rule cannot drift between flows.
"""

from __future__ import annotations

import re

from bot.text import fold

# 9 or more digits, allowing the spaces, dots and dashes people put inside ID and phone numbers.
_LONG_NUMBER = re.compile(r"\d(?:[\s.\-]?\d){8,}")
# A bare run of 4-12 digits is most likely an OTP, a passcode or an ID number sent by mistake.
_BARE_CODE = re.compile(r"^\s*(\d[\s.-]?){4,12}\s*$")
_SECRET_WORDS = re.compile(r"\b(otp|mat khau|passcode|ma xac thuc|cccd|cmnd|can cuoc|dinh danh)\b.*\d{4,}")


def has_id_number(text: str) -> bool:
    """A run of 9+ digits: the shape of a citizen ID (12), an old ID card (9) or a phone number (10)."""
    return bool(_LONG_NUMBER.search(text))


def looks_like_secret(text: str) -> bool:
    """An OTP, passcode or ID number typed into the chat (alone, or after words like "OTP", "CCCD")."""
    return bool(_BARE_CODE.match(text)) or bool(_SECRET_WORDS.search(fold(text))) or has_id_number(text)
