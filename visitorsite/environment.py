"""How the settings read the environment: each helper takes a variable's name and a default,
and refuses a value it cannot read (ImproperlyConfigured, naming the variable)."""

import os
import re

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def env_count(name: str, default: int) -> int:
    """A whole number, 1 or more."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise ImproperlyConfigured(f"{name} must be 1 or more, got {value!r}")
    return number


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if number <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, got {value!r}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_rate(name: str, default: str) -> tuple[int, int] | None:
    """``N/s``, ``N/m``, ``N/h`` or ``N/d`` -> (N, window seconds); ``off`` -> None."""
    value = os.environ.get(name, default).strip().lower()
    if value in {"", "off", "0"}:
        return None
    match = re.fullmatch(r"(\d+)/([smhd])", value)
    if not match or int(match.group(1)) < 1:
        raise ImproperlyConfigured(f"{name}={value!r}: use N/s, N/m, N/h or N/d, or off")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int(match.group(1)), seconds
