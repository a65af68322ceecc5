"""Matching a requested redirect URI with the registered ones, native apps included (RFC 8252).

- Every URI matches by exact string comparison (RFC 6749 §3.1.2.3, OAuth 2.1 §4.1.1)...
- ...except a loopback IP redirect URI (`http://127.0.0.1/…`, `http://[::1]/…`): a native app
  listens on a port the operating system gives it at the time of the request, so the port is
  ignored and the rest must be equal (RFC 8252 §7.3: the server MUST allow any port).
- `localhost` gets no such allowance. RFC 8252 §8.3 calls it NOT RECOMMENDED (the name can
  resolve to something else, and the app may listen on another interface than the browser
  reaches), so a `http://localhost:<port>/…` URI matches exactly, port included.
- A private-use URI scheme (`com.example.app:/callback`) is a reverse domain name the app owns
  (RFC 8252 §7.1); only public native clients may register one (see registration_policy).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

LOOPBACK_IPS = ("127.0.0.1", "::1")


def _loopback_parts(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_IPS:
        return None
    return parts


def is_loopback_ip_redirect(uri: str) -> bool:
    """An `http` URI on the loopback IP literal 127.0.0.1 or [::1] (RFC 8252 §7.3)."""
    return _loopback_parts(uri) is not None


def is_private_use_scheme(uri: str) -> bool:
    """A scheme other than http(s) that is a reverse domain name (RFC 8252 §7.1: it MUST
    contain a period, e.g. `com.example.app`)."""
    scheme = urlsplit(uri).scheme
    return scheme not in ("http", "https") and "." in scheme


def registered_redirect(registered: list[str], requested: str) -> bool:
    """Whether `requested` is one of the `registered` URIs, under the rules above."""
    if requested in registered:
        return True
    asked = _loopback_parts(requested)
    if asked is None:
        return False
    for uri in registered:
        known = _loopback_parts(uri)
        # RFC 8252 §7.3: any port; scheme, address, path and query exactly as registered.
        if known is not None and (known.hostname, known.path, known.query, known.fragment) == (
            asked.hostname,
            asked.path,
            asked.query,
            asked.fragment,
        ):
            return True
    return False
