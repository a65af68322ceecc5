"""The user's answer to a consent request: remembered, audited and written onto the flow.

Only the session that answered may carry the flow on (OIDC Core §3.1.2.4): the flow records
that session, and the authorization decision checks it before a code is issued.
"""

from __future__ import annotations

from provider.context import Caller, Services
from provider.oauth.flows import Flow, end_flow, save_flow
from provider.storage.consents import Consents
from provider.storage.models import Session
from provider.storage.unit_of_work import unit_of_work, utcnow


async def answer_consent(
    services: Services, caller: Caller, flow: Flow, session: Session, *, allowed: bool
) -> None:
    """Record the decision; a refusal ends the flow, an approval marks it with the session."""
    auth = flow.request
    async with unit_of_work(caller, services.events) as work:
        if allowed:
            await Consents(work.conn).remember(
                session.user_id, auth.client_id, auth.scopes, utcnow()
            )
            await work.audit(
                "consent.granted",
                user_id=session.user_id,
                session_id=session.id,
                client_id=auth.client_id,
                details={"scopes": auth.scopes},
            )
        else:
            await work.audit(
                "consent.denied",
                outcome="failure",
                user_id=session.user_id,
                session_id=session.id,
                client_id=auth.client_id,
            )
    if allowed:
        flow.consented_session_id = str(session.id)
        await save_flow(services.cache, flow)
    else:
        await end_flow(services.cache, flow)
