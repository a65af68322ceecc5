"""Generated client ids must be usable as a command-line argument value."""

from __future__ import annotations

from provider.crypto.tokens import new_client_id


def test_generated_client_ids_never_start_with_a_dash() -> None:
    ids = {new_client_id() for _ in range(3000)}
    assert len(ids) == 3000
    assert not any(client_id.startswith("-") for client_id in ids)
    assert all(len(client_id) == 22 for client_id in ids)
