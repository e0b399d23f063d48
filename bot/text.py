"""How people really type Vietnamese, made comparable: without diacritics, with "ky"/"ki" and the
abbreviations of chat ("dk", "tk", "cccd", "ko"), in any case. Used for matching names and codes, and
as the first step of understanding questions (`bot.understand`)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")

ABBREVIATIONS: dict[str, str] = {
    "dk": "dang ki", "dki": "dang ki", "tk": "tai khoan", "ko": "khong", "k": "khong", "kg": "khong",
    "hok": "khong", "hem": "khong", "khg": "khong", "mk": "mat khau", "pass": "mat khau",
    "password": "mat khau", "pw": "mat khau", "dvc": "dich vu cong", "dvcqg": "dich vu cong quoc gia",
    "cccd": "can cuoc", "cmnd": "can cuoc", "cmt": "can cuoc", "bhyt": "bao hiem i te",
    "bhit": "bao hiem i te", "bhxh": "bao hiem xa hoi", "ks": "khai sinh", "gks": "giay khai sinh",
    "hkd": "ho kinh doanh", "sdt": "so dien thoai", "dt": "dien thoai", "dth": "dien thoai",
    "onl": "online", "ol": "online", "tt": "thanh toan", "ntn": "nhu the nao", "dc": "duoc",
    "lv2": "muc 2", "m2": "muc 2", "lv1": "muc 1", "m1": "muc 1", "app": "ung dung", "ubnd": "uy ban",
    "tthc": "thu tuc", "hs": "ho so", "pc": "may tinh", "j": "gi", "z": "vay", "dzay": "vay",
    "vs": "voi", "ak": "a", "ah": "a", "vnied": "vneid", "vneit": "vneid", "vneld": "vneid",
    "vnid": "vneid", "ck": "chuyen khoan", "stk": "so tai khoan", "ng": "nguoi", "ngta": "nguoi ta",
    "bn": "bao nhieu", "bnhieu": "bao nhieu", "r": "roi", "ms": "moi", "mn": "moi nguoi",
    "tks": "cam on", "thanks": "cam on", "thank": "cam on", "thx": "cam on",
}  # fmt: skip


def fold(text: str) -> str:
    """Lowercase, strip Vietnamese diacritics (đ→d), keep only letters and digits separated by spaces."""
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(_WORD.findall(text))


def match_form(text: str) -> str:
    """`fold`, plus y→i: people write "ky"/"ki", "quy"/"qui" interchangeably."""
    return fold(text).replace("y", "i")


def normalise(text: str) -> str:
    """What the understanding compares: `match_form` with chat abbreviations spelled out."""
    words = [ABBREVIATIONS.get(word, word) for word in match_form(text).split()]
    return " ".join(" ".join(words).split())


def thousands(number: int) -> str:
    """1234 → "1.234" (the Vietnamese thousands mark)."""
    return f"{number:,}".replace(",", ".")
