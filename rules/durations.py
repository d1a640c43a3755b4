"""Durations as authors write them: ``30s``, ``15m``, ``2h``, ``7d``, ``1h30m``, ``PT15M``, ``P7D``."""

from __future__ import annotations

import re
from datetime import timedelta

_SHORT = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ISO = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")

#: The pattern the JSON Schemas use for a duration string.
PATTERN = r"^(?:(\d+[wdhms])+|P(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?)$"


def parse_duration(text: str) -> timedelta:
    """A positive :class:`~datetime.timedelta`; ``ValueError`` with a readable message if not."""
    match = _SHORT.match(text) or _ISO.match(text)
    if not text or match is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"invalid duration {text!r}; write e.g. '15m', '2h', '7d' or 'PT15M'")
    weeks, days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    value = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value <= timedelta(0):
        raise ValueError(f"duration {text!r} must be longer than zero")
    return value
