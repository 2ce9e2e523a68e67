"""Who owns a site the page script made: the one who proves control of its host.

The page script makes ``<namespace>/site`` and its page counters on the first page view, with
no admin key: nobody, not even whoever sent that view, owns them. A site's owner claims it
with an admin key of their choosing, by publishing ``visitorsite-claim=<sha256 of the key>``
at CLAIM_PROOF_URL (``https://<namespace>/.well-known/visitorsite-claim.txt``): only who
controls the host can. The operator (ADMIN_TOKEN, or ``manage.py claim_site``) needs no proof.

The proof is fetched from the address the host name resolves to, checked first: never a
loopback, private or link-local one (unless CLAIM_PRIVATE_ADDRESSES), so a claim cannot make
this server reach into its own network, and no redirect is followed.
"""

import http.client
import ipaddress
import re
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings

# A DNS host name of two labels or more: what a namespace must be to be claimed by proof.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_PATTERN = rf"{_LABEL}(?:\.{_LABEL})+"
_HOST = re.compile(HOST_PATTERN)
_PROOF_LIMIT = 4096  # bytes read of the proof file


class ProofError(Exception):
    """The proof could not be fetched or does not hold the key's line: says why."""


class NotAHost(ProofError):
    """The namespace names no host, so nobody can prove they own it (the operator may)."""


def proof_line(admin_key_sha256: str) -> str:
    return f"visitorsite-claim={admin_key_sha256}"


def proof_url(namespace: str) -> str:
    """Where the owner of ``namespace`` publishes the proof; NotAHost unless the namespace
    is a host name."""
    if not _HOST.fullmatch(namespace):
        raise NotAHost(
            f"{namespace!r} is not a host name, so nobody can prove they own it: "
            "the operator can claim it (manage.py claim_site)"
        )
    return settings.CLAIM_PROOF_URL.format(namespace=namespace)


def _address(host: str, port: int) -> str:
    """The address to fetch from: the host's first, all of them public unless allowed."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ProofError(f"{host} does not resolve") from None
    addresses = [info[4][0] for info in found]
    if not settings.CLAIM_PRIVATE_ADDRESSES:
        for address in addresses:
            if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
                raise ProofError(f"{host} resolves to a non-public address; no proof fetched")
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to the address checked by ``_address``, not to a new look-up of
    its host name (which could answer another, private address the second time)."""

    def __init__(self, host: str, port: int, address: str, *, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    """As _PinnedHTTP, over TLS: the certificate is checked against the host name."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int, address: str, *, timeout: float):
        super().__init__(host, port, address, timeout=timeout)
        self.tls = ssl.create_default_context()

    def connect(self) -> None:
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


def fetch_proof(url: str) -> str:
    """The text at ``url`` (its first 4 KiB), fetched from the checked address with no
    redirect followed; ProofError for anything but a 200."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    address = _address(host, port)
    if https:
        connection = _PinnedHTTPS(host, port, address, timeout=settings.CLAIM_TIMEOUT)
    else:
        connection = _PinnedHTTP(host, port, address, timeout=settings.CLAIM_TIMEOUT)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"User-Agent": "visitorsite-claim/1"})
        response = connection.getresponse()
        if response.status != 200:
            raise ProofError(f"{url} answered HTTP {response.status}, not 200")
        return response.read(_PROOF_LIMIT).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        raise ProofError(f"{url} could not be fetched ({type(exc).__name__})") from None
    finally:
        connection.close()


def check_proof(namespace: str, admin_key_sha256: str) -> None:
    """Return when the owner of ``namespace``'s host has published the key's proof line;
    raise ProofError saying what is missing otherwise."""
    url = proof_url(namespace)
    expected = proof_line(admin_key_sha256)
    if expected not in (line.strip() for line in fetch_proof(url).splitlines()):
        raise ProofError(f"{url} has no line {expected!r}")
