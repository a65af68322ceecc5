"""The state of one authorization in progress, kept in the cache between the hosted pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from provider.cache.base import Cache
from provider.crypto.tokens import new_token
from provider.oauth.authorization_request import AuthorizationRequest

FLOW_TTL = 900


@dataclass
class Flow:
    id: str
    request: AuthorizationRequest
    # Set when the user signed in during this flow (so prompt=login and max_age are satisfied).
    login_session_id: str | None = None
    # The session whose user allowed this request. A flow id can be opened in any browser: the
    # decision must come from the user the code is issued for (OIDC Core §3.1.2.4).
    consented_session_id: str | None = None

    def dump(self) -> str:
        return json.dumps(
            {
                "request": self.request.to_dict(),
                "login_session_id": self.login_session_id,
                "consented_session_id": self.consented_session_id,
            }
        )


async def save_flow(cache: Cache, flow: Flow) -> None:
    await cache.set(f"flow:{flow.id}", flow.dump(), FLOW_TTL)


async def new_flow(cache: Cache, request: AuthorizationRequest) -> Flow:
    flow = Flow(id=new_token(), request=request)
    await save_flow(cache, flow)
    return flow


async def load_flow(cache: Cache, flow_id: str | None) -> Flow | None:
    if not flow_id or len(flow_id) > 64:
        return None
    raw = await cache.get(f"flow:{flow_id}")
    if raw is None:
        return None
    data: dict[str, Any] = json.loads(raw)
    return Flow(
        id=flow_id,
        request=AuthorizationRequest.from_dict(data["request"]),
        login_session_id=data.get("login_session_id"),
        consented_session_id=data.get("consented_session_id"),
    )


async def end_flow(cache: Cache, flow: Flow) -> None:
    await cache.delete(f"flow:{flow.id}")
