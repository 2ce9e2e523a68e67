"""How a variable of the environment is read: the one set of readers settings.py,
gunicorn.conf.py and connection_limits.py use. Each takes the variable's name, a default, and
optionally the ``environ`` mapping to read (os.environ when omitted; gunicorn.conf.py reads
before Django is set up, and tests pass a dict). A value a reader cannot use raises
Django's ImproperlyConfigured, one line naming the variable: Django reports it as it reports
any setting, gunicorn.conf.py prints the line and exits.

Nothing here needs Django's settings: only its exception class is imported.
"""

import ipaddress
import math
import os
import re
from collections.abc import Mapping, Sequence

from django.core.exceptions import ImproperlyConfigured


def _raw(name: str, environ: Mapping[str, str] | None, default: str = "") -> str:
    return (os.environ if environ is None else environ).get(name, default).strip()


def env_text(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    """The value stripped of spaces; ``default`` when unset (set but blank is blank: write
    ``env_text(name) or default`` where blank means the default too)."""
    return _raw(name, environ, default)


def env_choice(
    name: str, default: str, choices: Sequence[str], *, environ: Mapping[str, str] | None = None
) -> str:
    """One of ``choices`` (compared in lower case)."""
    value = _raw(name, environ, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be {_either(choices)}, got {value!r}")
    return value


def _either(choices: Sequence[str]) -> str:
    return ", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0]


def env_bool(name: str, default: bool = False, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ).lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def env_count(
    name: str, default: int, *, low: int = 1, environ: Mapping[str, str] | None = None
) -> int:
    """A whole number, ``low`` (1 unless said) or more. Never truncated from a fraction."""
    value = _raw(name, environ)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None
    if number < low:
        raise ImproperlyConfigured(f"{name} must be {low} or more, got {value!r}")
    return number


def env_float(name: str, default: float, *, environ: Mapping[str, str] | None = None) -> float:
    """A positive, finite number (seconds, mostly)."""
    value = _raw(name, environ)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if not number > 0 or math.isinf(number):  # nan fails "> 0"
        raise ImproperlyConfigured(f"{name} must be a positive number, got {value!r}")
    return number


def env_list(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated items, blanks dropped."""
    value = (os.environ if environ is None else environ).get(name, default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated addresses or CIDR networks (TRUSTED_PROXIES)."""
    networks = env_list(name, "", environ=environ)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {network!r} is not an address") from None
    return networks


def env_rate(
    name: str, default: str, *, environ: Mapping[str, str] | None = None
) -> tuple[int, int] | None:
    """``N/s``, ``N/m``, ``N/h`` or ``N/d`` -> (N, window seconds); ``off`` -> None."""
    # Set but blank is off, as "off" is.
    value = _raw(name, environ, default).lower()
    if value in {"", "off", "0"}:
        return None
    match = re.fullmatch(r"(\d+)/([smhd])", value)
    if not match or int(match.group(1)) < 1:
        raise ImproperlyConfigured(f"{name}={value!r}: use N/s, N/m, N/h or N/d, or off")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int(match.group(1)), seconds
