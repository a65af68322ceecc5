"""Response header values: the quick check strips exactly what Sanic's own sanitising strips."""

from __future__ import annotations

import pytest
from sanic.response import raw
from sanic.response.types import HEADER_TRANSLATION_TABLE, BaseHTTPResponse

from provider.http.header_values import (
    install_header_sanitizer,
    sanitize_header_value,
)

VALUES = [
    "",
    "public, max-age=300",
    '"0a1b2c"',
    "https://rp.example/cb?code=x\r\nSet-Cookie: sid=evil",
    "a\nb",
    "a\rb",
    "nul\x00here",
    "\r\n\x00",
    "café ✓",
]


@pytest.mark.parametrize("value", VALUES)
def test_a_value_comes_out_as_sanics_translation_makes_it(value: str) -> None:
    assert sanitize_header_value(value) == value.translate(HEADER_TRANSLATION_TABLE)


def test_responses_strip_cr_lf_and_nul_from_their_headers_once_installed() -> None:
    install_header_sanitizer()
    assert BaseHTTPResponse._sanitize_header_value is sanitize_header_value
    response = raw(b"{}", headers={"Location": "https://a.example/\r\nX-Evil: 1", "X-Ok": "fine"})
    headers = dict(response.processed_headers)
    assert headers[b"Location"] == b"https://a.example/X-Evil: 1"
    assert headers[b"X-Ok"] == b"fine"
