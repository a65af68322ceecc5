"""A page's language from what its handler has already read: the flow and the browser session
are not read again, and the order stays ui_locales, the user's locale, Accept-Language, the
default."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from sanic import Request

from provider.http.locale import page_translator
from provider.oauth.authorization_request import AuthorizationRequest
from provider.oauth.flows import Flow


class _Cache:
    """The flows in the cache, and every key read from it."""

    def __init__(self, *flows: Flow) -> None:
        self.flows = {f"flow:{flow.id}": flow.dump() for flow in flows}
        self.reads: list[str] = []

    async def get(self, key: str) -> str | None:
        self.reads.append(key)
        return self.flows.get(key)


def _flow(flow_id: str, ui_locales: str | None) -> Flow:
    return Flow(flow_id, AuthorizationRequest("rp", "https://rp.example/cb", ui_locales=ui_locales))


def _session(locale: str | None) -> Any:
    return SimpleNamespace(user=SimpleNamespace(locale=locale))


def _request(cache: _Cache, flow_id: str | None = None, accept: str = "es") -> Request:
    settings = SimpleNamespace(default_locale="en", secure_cookies=False)
    services = SimpleNamespace(cache=cache, settings=settings)
    return cast(
        Request,
        SimpleNamespace(
            ctx=SimpleNamespace(),
            app=SimpleNamespace(ctx=SimpleNamespace(services=services)),
            args={"flow": flow_id} if flow_id else {},
            method="GET",
            content_type="",
            headers={"accept-language": accept},
            cookies={},
        ),
    )


async def test_what_the_handler_read_decides_in_the_same_order_without_reading_it_again() -> None:
    cache = _Cache()
    cases = [
        (_flow("f", "de"), _session("fr"), "es", "de"),
        (_flow("f", None), _session("fr"), "es", "fr"),
        (_flow("f", None), _session(None), "es", "es"),
        (_flow("f", None), None, "ja", "en"),
    ]
    for flow, session, accept, expected in cases:
        request = _request(cache, "f", accept)
        chosen = await page_translator(request, flow=flow, session=session)
        assert chosen.locale == expected, (flow, session, accept)
    assert cache.reads == []


async def test_a_flow_the_request_does_not_name_is_not_taken_for_its_flow() -> None:
    cache = _Cache(_flow("named", "fr"))
    named = await page_translator(_request(cache, "named"), flow=_flow("other", "de"), session=None)
    assert (named.locale, cache.reads) == ("fr", ["flow:named"])


async def test_a_request_that_names_no_flow_takes_the_handlers() -> None:
    """/authorize renders a step of the flow it has just made: its ui_locales count."""
    cache = _Cache()
    unnamed = await page_translator(_request(cache), flow=_flow("new", "de"), session=None)
    assert unnamed.locale == "de"
    assert cache.reads == []


async def test_what_the_handler_did_not_read_is_read() -> None:
    cache = _Cache(_flow("f", "de"))
    chosen = await page_translator(_request(cache, "f"), session=_session("fr"))
    assert (chosen.locale, cache.reads) == ("de", ["flow:f"])
    without_cookie = await page_translator(_request(cache, "f"), flow=_flow("f", None))
    assert without_cookie.locale == "es"
