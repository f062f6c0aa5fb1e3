"""Durations as operators read them in a command's output."""


def short_age(seconds: float) -> str:
    """``3725`` -> ``1h 2m``: the largest unit and the next one (negative counts as 0)."""
    seconds = int(max(seconds, 0))
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    first = next(i for i, (_unit, size) in enumerate(units) if seconds >= size or size == 1)
    parts = []
    for unit, size in units[first : first + 2]:
        parts.append(f"{seconds // size}{unit}")
        seconds %= size
    return " ".join(parts)
