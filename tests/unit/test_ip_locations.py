"""Where a device's address is: read only from a configured local database, else nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provider.net.ip_locations import IpLocations
from tests.geoip import write_city_database


@pytest.fixture
def locations(tmp_path: Path) -> Iterator[IpLocations]:
    opened = IpLocations.open(write_city_database(tmp_path / "cities.mmdb"))
    yield opened
    opened.close()


@pytest.mark.parametrize(
    ("ip", "place"),
    [
        ("127.0.0.1", "London, England, United Kingdom"),
        ("81.2.69.160", "Sweden"),
        ("2001:db8::1", "Paris, France"),
        ("10.0.0.1", None),  # not in the file
        ("", None),
        ("not an address", None),
    ],
)
def test_what_the_database_knows_in_english(
    locations: IpLocations, ip: str, place: str | None
) -> None:
    assert locations.describe(ip) == place


def test_places_are_named_in_the_readers_language_where_the_file_can(
    locations: IpLocations,
) -> None:
    assert locations.describe("2001:db8::1", "de") == "Paris (de), France (de)"
    assert locations.describe("2001:db8::1", "fr") == "Paris, France"  # no French name: English


def test_without_a_database_there_is_no_location() -> None:
    assert IpLocations.open(None).describe("127.0.0.1") is None


def test_a_configured_file_that_is_missing_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        IpLocations.open(tmp_path / "missing.mmdb")
