"""The data directory's own files: private to the service's user, and the secret key kept there."""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def persistent_secret_key(data_dir: Path) -> str:
    """Return the key kept in the data directory, creating it once.

    Several processes (gunicorn workers, runserver's reloader) may start at the same time:
    O_EXCL makes exactly one of them write the file and the others read it.
    """
    path = data_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if key:
            return key
        raise ImproperlyConfigured(f"{path} is empty: delete it or set SECRET_KEY") from None
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def private_directory(path: Path) -> None:
    """Create ``path`` readable by its owner only (0700), or make it so when it is ours.

    It holds the secret key and the embedded server's data: nothing there is for other users
    of the machine. A directory someone else owns (a mounted volume) is left as it is.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        path.chmod(0o700)
