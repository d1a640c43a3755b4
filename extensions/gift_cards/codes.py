"""Gift card codes: random, grouped for reading aloud, without characters people confuse."""
from __future__ import annotations

import secrets

#: No 0/O, 1/I/L: a code read from a physical card is typed without guessing.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: 16 characters of 31: about 79 bits, far beyond guessing within any rate limit.
LENGTH = 16
GROUP = 4


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def hint(code: str) -> str:
    """The last four characters: enough to tell cards apart in a list, useless to spend one."""
    return "".join(ch for ch in code.upper() if ch.isalnum())[-4:]
