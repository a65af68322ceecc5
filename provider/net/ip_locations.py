"""Where an IP address is, in words, for the list of a user's devices.

Read only from a local database file the operator configured (PROVIDER_GEOIP_DATABASE): the
MaxMind DB format of GeoLite2 City/Country or DB-IP's lite databases. Nothing is ever looked up
over the network. Without a file, or for an address the file does not know (private ranges,
anything malformed), there is no location. The file is memory-mapped, so the workers of a host
share its pages.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import maxminddb

log = logging.getLogger(__name__)

# The names every such file has; a place without one in the reader's language is named in this.
FALLBACK_LANGUAGE = "en"


class _Reader(Protocol):
    def get(self, ip_address: str) -> Any: ...

    def close(self) -> None: ...


class IpLocations:
    """`describe(ip, "de")` → "City, Region, Country" (what the file knows of it), each in that
    language where the file has it (GeoLite2 has de, en, es, fr, …), else in English; or None."""

    def __init__(self, reader: _Reader | None = None) -> None:
        self._reader = reader

    @classmethod
    def open(cls, path: Path | None) -> IpLocations:
        """The database at `path`; no database without one. A missing or unreadable file is an
        error at start, not a silent lack of locations."""
        if path is None:
            return cls()
        reader = maxminddb.open_database(str(path))
        kind = reader.metadata().database_type
        log.info("ip location database opened", extra={"database_type": kind})
        return cls(reader)

    def describe(self, ip: str, language: str = FALLBACK_LANGUAGE) -> str | None:
        if self._reader is None or not ip:
            return None
        try:
            record = self._reader.get(ip)
        except ValueError:  # not an address, or IPv6 in an IPv4-only file
            return None
        except maxminddb.InvalidDatabaseError:
            log.warning("ip location database is corrupt", exc_info=True)
            return None
        if not isinstance(record, dict):
            return None
        subdivisions = record.get("subdivisions")
        region = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else None
        places = (record.get("city"), region, record.get("country"))
        parts = [_name(place, language) for place in places]
        words = [part for part in parts if part]
        return ", ".join(dict.fromkeys(words)) or None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


def _name(place: Any, language: str) -> str | None:
    if not isinstance(place, dict):
        return None
    names = place.get("names")
    if not isinstance(names, dict):
        return None
    for name in (names.get(language), names.get(FALLBACK_LANGUAGE)):
        if isinstance(name, str) and name:
            return name
    return None
