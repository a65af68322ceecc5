"""What a REDIS_URL names, and what the Redis connection writes on the wire."""

from __future__ import annotations

import pytest

from provider.cache.resp import RedisAddress, encode_command


def test_a_tcp_url_with_credentials_and_database() -> None:
    address = RedisAddress.parse("redis://app:p%40ss@cache.internal:6380/4")
    assert (address.host, address.port, address.db) == ("cache.internal", 6380, 4)
    assert (address.username, address.password, address.tls, address.path) == (
        "app",
        "p@ss",
        False,
        None,
    )


def test_defaults_and_a_password_alone() -> None:
    address = RedisAddress.parse("redis://:secret@localhost")
    assert (address.port, address.db, address.username, address.password) == (
        6379,
        0,
        None,
        "secret",
    )


def test_tls_and_unix_sockets() -> None:
    assert RedisAddress.parse("rediss://cache:6390/1").tls is True
    unix = RedisAddress.parse("unix:///run/redis/redis.sock?db=3")
    assert (unix.path, unix.db) == ("/run/redis/redis.sock", 3)


@pytest.mark.parametrize(
    "url", ["http://cache:6379/0", "redis://cache:6379/two", "redis://cache/1x", "memcached://x"]
)
def test_urls_that_name_no_redis_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        RedisAddress.parse(url)


def test_commands_are_arrays_of_bulk_strings() -> None:
    assert encode_command(("SET", "k", "é", 1.5, 10)) == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n$3\r\n1.5\r\n$2\r\n10\r\n"
    )
