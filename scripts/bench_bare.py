"""The framework ceiling for `scripts/bench`: a bare Sanic app answering `{"ok": true}`.

Same Sanic, same Python, same pinning, access log off and logging at WARNING, like the provider
under test. `python scripts/bench_bare.py --port P [--workers N]`.
"""

from __future__ import annotations

import argparse
import logging

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json
from sanic.worker.loader import AppLoader


def create_app() -> Sanic:  # type: ignore[type-arg]
    app = Sanic("bench_bare", configure_logging=False)

    @app.get("/")
    async def ok(request: Request) -> HTTPResponse:
        return json({"ok": True})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # A factory, as the provider's `serve` does: spawned workers build their own app.
    loader = AppLoader(factory=create_app)
    app = loader.load()
    app.prepare(
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        single_process=args.workers == 1,
        access_log=False,
        motd=False,
    )
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
