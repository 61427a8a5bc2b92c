"""Time points as people write them: ``gw20`` (gestational week), ``pp42`` / ``pp6w``
(postpartum day / week), ``day14`` (study day)."""

from __future__ import annotations

import re

_PATTERN = re.compile(r"(gw|pp|day)(\d+)(w?)")


def parse_time_point(text: str) -> tuple[str, int] | None:
    """('gw', week) | ('pp', postpartum day) | ('day', study day); None if malformed."""
    m = _PATTERN.fullmatch(text.strip().lower())
    if not m or (m.group(3) and m.group(1) != "pp"):
        return None
    num = int(m.group(2))
    return m.group(1), num * 7 if m.group(3) else num
