"""The public station code printed on the poster: short, stable, and not guessable.

A station's database id is sequential, so ``/s/17`` would let anyone walk the whole
network and post check-ins for stations they never visited. The public code is instead
drawn at random (``secrets``) from Crockford's base32 alphabet, 8 symbols = 40 bits, and
stored beside the station: with 186,000 stations a random guess hits one about once in
six million tries, and the check-in endpoint is rate-limited per client. The alphabet has
no I, L, O or U, and reading tolerates the usual mix-ups (``O``→``0``, ``I``/``L``→``1``,
lower case, a dash or space a person typed), so a code copied by hand from a poster works.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "new_code", "normalise_code"]

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8

_MIXUPS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_VALID = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def new_code() -> str:
    """A fresh random code (the caller stores it under a unique constraint)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The code as stored, or None when ``text`` cannot be one (wrong length or symbols)."""
    if not isinstance(text, str) or len(text) > 32:
        return None
    cleaned = re.sub(r"[\s-]", "", text).upper().translate(_MIXUPS)
    return cleaned if _VALID.fullmatch(cleaned) else None
