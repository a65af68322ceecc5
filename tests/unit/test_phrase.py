"""A Phrase is the English sentence wherever a string goes, and a message id with values for
the pages: translated first, then filled in."""

from __future__ import annotations

import json

import orjson

from provider.domain_errors import InvalidRequest, Phrase, ValidationFailed
from provider.i18n.catalogues import translator


def test_a_phrase_reads_in_english_as_a_string() -> None:
    phrase = Phrase("must be %(least)s to %(most)s seconds", least=60, most=3600)
    assert phrase == "must be 60 to 3600 seconds"
    failed = ValidationFailed({"access_token_ttl": [phrase]})
    assert orjson.loads(orjson.dumps(failed.details)) == {
        "access_token_ttl": ["must be 60 to 3600 seconds"]
    }
    assert json.dumps(InvalidRequest(Phrase("role must be one of %(roles)s.", roles="a")).message)
    assert InvalidRequest(Phrase("role must be one of %(roles)s.", roles="a, b")).message == (
        "role must be one of a, b."
    )


def test_a_page_translates_the_message_id_then_fills_it_in() -> None:
    phrase = Phrase("must be %(least)s to %(most)s seconds", least=60, most=3600)
    assert translator("de").gettext(phrase) == "muss zwischen 60 und 3600 Sekunden liegen"
    assert translator("fr").gettext(phrase) == "doit être de 60 à 3600 secondes"
    assert translator("en").gettext(phrase) == "must be 60 to 3600 seconds"
