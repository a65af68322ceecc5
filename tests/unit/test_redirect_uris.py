"""Redirect URI matching (RFC 6749 §3.1.2.3) with the native-app rules of RFC 8252."""

from __future__ import annotations

import pytest

from provider.oauth.redirect_uris import (
    is_loopback_ip_redirect,
    is_private_use_scheme,
    registered_redirect,
)


@pytest.mark.parametrize(
    ("registered", "requested", "matches"),
    [
        # RFC 8252 §7.3: a loopback IP redirect URI matches on any port...
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004/callback", True),
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:51004/callback", True),
        ("http://[::1]/callback", "http://[::1]:61000/callback", True),
        ("http://127.0.0.1/callback?app=cli", "http://127.0.0.1:3000/callback?app=cli", True),
        # ...with the rest exactly as registered.
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004/callback/", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004/other", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004/callback?x=1", False),
        ("http://127.0.0.1/callback", "http://[::1]:51004/callback", False),
        ("http://127.0.0.1/callback", "https://127.0.0.1:51004/callback", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:notaport/callback", False),
        # localhost is NOT RECOMMENDED (§8.3): matched exactly, port included.
        ("http://localhost:3000/callback", "http://localhost:3000/callback", True),
        ("http://localhost:3000/callback", "http://localhost:3001/callback", False),
        ("http://localhost/callback", "http://localhost:3001/callback", False),
        # Everything else: exact string comparison.
        ("https://app.example/cb", "https://app.example:443/cb", False),
        ("com.example.app:/oauth", "com.example.app:/oauth", True),
        ("com.example.app:/oauth", "com.example.app:/oauth2", False),
    ],
)
def test_matching(registered: str, requested: str, matches: bool) -> None:
    assert registered_redirect([registered], requested) is matches


def test_kinds() -> None:
    assert is_loopback_ip_redirect("http://127.0.0.1:8/cb")
    assert is_loopback_ip_redirect("http://[::1]/cb")
    assert not is_loopback_ip_redirect("http://localhost/cb")
    assert not is_loopback_ip_redirect("https://127.0.0.1/cb")
    # RFC 8252 §7.1: reverse domain name schemes only.
    assert is_private_use_scheme("com.example.app:/cb")
    assert not is_private_use_scheme("myapp:/cb")
    assert not is_private_use_scheme("https://app.example/cb")
