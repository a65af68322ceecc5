"""A small IP location database in the MaxMind DB format, written for the tests."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def _names(english: str) -> dict[str, dict[str, str]]:
    return {"names": {"en": english, "de": f"{english} (de)"}}


def write_city_database(path: Path) -> Path:
    """127.0.0.0/8 is in London; 81.2.69.0/24 has only a country; 2001:db8::/32 is in Paris."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-City",
        languages=["en"],
        description="test locations",
    )
    writer.insert_network(
        IPSet(["127.0.0.0/8"]),
        {
            "city": _names("London"),
            "subdivisions": [_names("England")],
            "country": {"iso_code": "GB", **_names("United Kingdom")},
        },
    )
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country": _names("Sweden")})
    writer.insert_network(
        IPSet(["2001:db8::/32"]),
        {"city": _names("Paris"), "country": _names("France")},
    )
    writer.to_db_file(str(path))
    return path
