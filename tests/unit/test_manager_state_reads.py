"""With several workers, the manager ends the process holding the workers' shared state once the
workers have ended, possibly while Sanic still reads that state: a read cut short must not turn
a clean drain into exit status 1."""

from __future__ import annotations

import inspect

import pytest
from sanic import Sanic

from provider.cli import _tolerate_the_state_process_ending


def test_a_garbled_read_of_the_workers_state_leaves_nothing_to_wait_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Restored after the test: the class attribute as Sanic defines it (a staticmethod).
    monkeypatch.setattr(
        Sanic, "_get_process_states", inspect.getattr_static(Sanic, "_get_process_states")
    )
    with pytest.raises(AttributeError):
        Sanic._get_process_states({"Sanic-Server-0-0": "garbled"})

    _tolerate_the_state_process_ending()

    assert Sanic._get_process_states({"Sanic-Server-0-0": "garbled"}) == []
    running = {"Sanic-Server-0-0": {"state": "ACKED"}, "Sanic-Main": {"pid": 1}}
    assert Sanic._get_process_states(running) == ["ACKED"]
