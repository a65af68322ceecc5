"""A refused console form's fields and their reasons, as the page shows them."""

from __future__ import annotations

from collections.abc import Mapping

from sanic import Request

from provider.http.locale import page_translator
from provider.i18n.catalogues import Message, sentence


async def field_problems(request: Request, problems: Mapping[str, list[str]]) -> list[Message]:
    """One line a field, in the reader's language: each reason is a message id of the core,
    translated first; the line's own words are translated when the page renders it, then
    filled in (a sentence is never translated after formatting)."""
    translator = await page_translator(request)
    return [
        sentence(
            "%(field)s: %(reasons)s",
            field=name,
            reasons="; ".join(translator.gettext(reason) for reason in reasons),
        )
        for name, reasons in problems.items()
    ]
