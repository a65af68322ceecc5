"""The OpenAPI 3.1 document served at /docs/openapi.json, and the Swagger UI page at /docs.

Built once per app from two sources: the `provider.http.api_doc` records on the JSON API's
handlers (summary, tag, request body, declared responses) and the tables below for what those
cannot say: the OAuth / OpenID endpoints' wire parameters, and every error status an operation can
answer (the JSON API's envelope, RFC 6749 §5.2 bodies, 503 when a store is down). Hosted HTML pages
are not part of the API and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, html
from sanic.response import json as json_response

from provider.http import api_doc
from provider.http.blueprint import Blueprint
from provider.sanic_app import App

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
HTML = "text/html"
# swagger-ui-dist 5.35.0 (Apache-2.0, see its LICENSE and NOTICE), shipped in the package so the
# page works with no network but the provider's.
SWAGGER_UI_DIR = Path(__file__).parent / "static" / "swagger-ui"
SWAGGER_UI = "/docs/assets"
_METHODS = ("get", "post", "put", "patch", "delete")
_PARAM = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)(?::[^>]*)?>")

ERROR_DESCRIPTIONS = {
    "400": "Malformed request: bad JSON, a refused field or parameter",
    "401": "Missing, invalid or expired credentials",
    "403": "Authenticated, but not allowed",
    "404": "No such resource",
    "409": "Conflicts with the current state",
    "413": "The body is too large",
    "415": "The body is not of the documented media type",
    "422": "A field breaks a policy (password rules, …)",
    "423": "The account is locked",
    "429": "Rate limited; see Retry-After",
    "503": "A store is unreachable; retry after Retry-After",
}

API_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "request_id"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
                "request_id": {"type": "string"},
            },
        }
    },
}
OAUTH_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
    },
}
TOKEN_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string"},
        "expires_in": {"type": "integer"},
        "refresh_token": {"type": "string"},
        "id_token": {"type": "string"},
        "scope": {"type": "string"},
    },
}
OBJECT: dict[str, Any] = {"type": "object"}

# Errors of JSON API operations that their decorators do not declare, by operationId.
_API_EXTRA_ERRORS: dict[str, set[str]] = {
    "post_api_register_register": {"422"},
    "post_api_admin_user_actions_force_password_reset": {"409"},
}


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    required: bool = False
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


def _string_params(*names: str) -> dict[str, Any]:
    return {name: {"type": "string"} for name in names}


def _form_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {FORM: {"schema": schema}}}


def _query(params: list[Param]) -> list[dict[str, Any]]:
    return [
        {
            "name": param.name,
            "in": "query",
            "required": param.required,
            "description": param.description,
            "schema": param.schema,
        }
        for param in params
    ]


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema or OBJECT}}}


def _api_error(status: str) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/ApiError{status}"}


def _oauth_error(status: str) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/OAuthError{status}"}


def _page(description: str) -> dict[str, Any]:
    return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}


def _redirect(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
    }


_AUTHORIZE_PARAMS = [
    Param("response_type", "`code` (the only response type)", True),
    Param("client_id", "The client's identifier", True),
    Param("redirect_uri", "One of the client's registered redirect URIs (exact match)"),
    Param("scope", "Space-separated scopes; `openid` for OpenID Connect"),
    Param("state", "Opaque value returned to the client"),
    Param("nonce", "Bound into the ID token"),
    Param("code_challenge", "PKCE (RFC 7636), S256; required for public clients"),
    Param("code_challenge_method", "`S256`", schema={"type": "string", "enum": ["S256"]}),
    Param("prompt", "`none`, `login`, `consent`"),
    Param("max_age", "Seconds since the last authentication", schema={"type": "string"}),
    Param("id_token_hint", "An ID token previously issued to this client"),
    Param("login_hint", "Email or username to prefill"),
    Param("acr_values", "`urn:provider:acr:mfa` requires a second factor"),
    Param("response_mode", "`query` or `form_post`"),
]
_LOGOUT_PARAMS = [
    Param("id_token_hint", "An ID token issued to the client"),
    Param("client_id", "The client asking for the sign-out"),
    Param("post_logout_redirect_uri", "A registered post-logout redirect URI"),
    Param("state", "Returned to the post-logout redirect URI"),
]
_CLIENT_AUTH_FIELDS = _string_params(
    "client_id", "client_secret", "client_assertion_type", "client_assertion"
)
_TOKEN_FIELDS = {
    "grant_type": {
        "type": "string",
        "enum": ["authorization_code", "refresh_token", "client_credentials"],
    },
    **_string_params("code", "redirect_uri", "code_verifier", "refresh_token", "scope"),
    **_CLIENT_AUTH_FIELDS,
}
_TOKEN_FORM_FIELDS = {
    "token": {"type": "string"},
    "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
    **_CLIENT_AUTH_FIELDS,
}
_CLIENT_SECURITY: list[dict[str, list[str]]] = [{"clientBasic": []}, {}]


def _oauth_operations() -> dict[str, dict[str, Any]]:
    """The OAuth 2.1 / OpenID Connect endpoints, by path then method."""
    discovery = {
        "tags": ["discovery"],
        "responses": {
            "200": _json("The provider's metadata"),
            "304": {"description": "Not modified (ETag)"},
        },
    }
    authorize_responses = {
        "200": _page("The sign-in or consent page, or a form_post answer"),
        "302": _redirect("Back to the client with `code` or `error`, `state` and `iss`"),
        "303": _redirect("On to the sign-in, step-up or consent page"),
        "400": _page("An error page: unknown client or redirect URI, or a bad request"),
        "429": _api_error("429"),
        "503": _page("A store is unreachable"),
    }
    logout_responses = {
        "200": _page("The sign-out confirmation page"),
        "303": _redirect("To the registered post-logout redirect URI"),
        "400": _page("An error page: an ID token or redirect URI that does not fit"),
        "503": _page("A store is unreachable"),
    }
    token_errors = {status: _oauth_error(status) for status in ("400", "401", "503")}
    return {
        "/.well-known/openid-configuration": {
            "get": {
                **discovery,
                "operationId": "openid_configuration",
                "summary": "OpenID Provider metadata (OIDC Discovery §3)",
            }
        },
        "/.well-known/oauth-authorization-server": {
            "get": {
                **discovery,
                "operationId": "oauth_authorization_server",
                "summary": "Authorization server metadata (RFC 8414)",
            }
        },
        "/jwks": {
            "get": {
                "operationId": "jwks",
                "tags": ["discovery"],
                "summary": "The public signing keys (RFC 7517)",
                "responses": {
                    "200": {
                        "description": "A JWK Set",
                        "content": {"application/jwk-set+json": {"schema": OBJECT}},
                    },
                    "304": {"description": "Not modified (ETag)"},
                },
            }
        },
        "/authorize": {
            "get": {
                "operationId": "authorize",
                "tags": ["oauth"],
                "summary": "Authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1)",
                "parameters": _query(_AUTHORIZE_PARAMS),
                "responses": authorize_responses,
            },
            "post": {
                "operationId": "authorize_post",
                "tags": ["oauth"],
                "summary": "Authorization request sent as a form (OIDC Core §3.1.2.1)",
                "requestBody": _form_body(
                    {param.name: param.schema for param in _AUTHORIZE_PARAMS}, []
                ),
                "responses": authorize_responses,
            },
        },
        "/token": {
            "post": {
                "operationId": "token",
                "tags": ["oauth"],
                "summary": "Token endpoint (RFC 6749 §3.2): code, refresh, client credentials",
                "security": _CLIENT_SECURITY,
                "requestBody": _form_body(_TOKEN_FIELDS, ["grant_type"]),
                "responses": {
                    "200": _json("Tokens", TOKEN_RESPONSE_SCHEMA),
                    **token_errors,
                    "429": _api_error("429"),
                },
            }
        },
        "/userinfo": {
            "get": {
                "operationId": "userinfo",
                "tags": ["oauth"],
                "summary": "Claims about the user (OIDC Core §5.3)",
                "security": [{"bearer": []}],
                "responses": {
                    "200": _json("The claims the access token's scopes allow"),
                    **{status: _oauth_error(status) for status in ("400", "401", "403", "503")},
                },
            },
            "post": {
                "operationId": "userinfo_post",
                "tags": ["oauth"],
                "summary": "Claims about the user; the token may be a form field (RFC 6750 §2.2)",
                "security": [{"bearer": []}, {}],
                "requestBody": {
                    "required": False,
                    "content": {
                        FORM: {
                            "schema": {
                                "type": "object",
                                "properties": {"access_token": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json("The claims the access token's scopes allow"),
                    **{status: _oauth_error(status) for status in ("400", "401", "403", "503")},
                },
            },
        },
        "/introspect": {
            "post": {
                "operationId": "introspect",
                "tags": ["oauth"],
                "summary": "Token introspection (RFC 7662)",
                "security": _CLIENT_SECURITY,
                "requestBody": _form_body(_TOKEN_FORM_FIELDS, ["token"]),
                "responses": {
                    "200": _json(
                        "`active`, and for an active token its claims",
                        {
                            "type": "object",
                            "required": ["active"],
                            "properties": {"active": {"type": "boolean"}},
                        },
                    ),
                    **token_errors,
                },
            }
        },
        "/revoke": {
            "post": {
                "operationId": "revoke",
                "tags": ["oauth"],
                "summary": "Token revocation (RFC 7009); 200 for unknown tokens too",
                "security": _CLIENT_SECURITY,
                "requestBody": _form_body(_TOKEN_FORM_FIELDS, ["token"]),
                "responses": {"200": {"description": "Revoked (or unknown)"}, **token_errors},
            }
        },
        "/logout": {
            "get": {
                "operationId": "end_session",
                "tags": ["oauth"],
                "summary": "RP-Initiated Logout 1.0 (end_session_endpoint)",
                "parameters": _query(_LOGOUT_PARAMS),
                "responses": logout_responses,
            },
            "post": {
                "operationId": "end_session_post",
                "tags": ["oauth"],
                "summary": "RP-Initiated Logout 1.0, parameters as a form (or the confirmation)",
                "requestBody": _form_body(
                    {
                        **{param.name: param.schema for param in _LOGOUT_PARAMS},
                        **_string_params("csrf", "confirm"),
                    },
                    [],
                ),
                "responses": {**logout_responses, "403": _page("The form's CSRF check failed")},
            },
        },
    }


_CLIENT_METADATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 7591 §2 client metadata; fields not understood are ignored",
    "properties": {
        "redirect_uris": {"type": "array", "items": {"type": "string"}},
        "token_endpoint_auth_method": {"type": "string"},
        "grant_types": {"type": "array", "items": {"type": "string"}},
        "response_types": {"type": "array", "items": {"type": "string"}},
        "scope": {"type": "string"},
        **_string_params("client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri"),
        **_string_params("jwks_uri", "software_id", "software_version"),
        "contacts": {"type": "array", "items": {"type": "string"}},
    },
}
_CLIENT_ID_PARAM = [
    {"name": "client_id", "in": "path", "required": True, "schema": {"type": "string"}}
]


def _registration_operations() -> dict[str, dict[str, Any]]:
    """Dynamic client registration (RFC 7591) and its management (RFC 7592)."""
    information = _json("The client information response (RFC 7591 §3.2.1, RFC 7592 §3)")
    body = {"required": True, "content": {JSON: {"schema": _CLIENT_METADATA_SCHEMA}}}
    errors = {
        "400": _oauth_error("400"),
        "401": _oauth_error("401"),
        "413": _api_error("413"),
        "503": _oauth_error("503"),
    }
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "/oauth/clients": {
            "post": {
                "operationId": "register_client",
                "tags": ["oauth"],
                "summary": "Dynamic client registration (RFC 7591), with an initial access token",
                "security": [*bearer, {}],
                "requestBody": body,
                "responses": {"201": information, **errors, "429": _api_error("429")},
            }
        },
        "/oauth/clients/{client_id}": {
            "get": {
                "operationId": "read_client_configuration",
                "tags": ["oauth"],
                "summary": "A dynamic client reads its registration (RFC 7592 §2.1)",
                "security": bearer,
                "parameters": _CLIENT_ID_PARAM,
                "responses": {"200": information, **errors},
            },
            "put": {
                "operationId": "update_client_configuration",
                "tags": ["oauth"],
                "summary": "A dynamic client replaces its registration (RFC 7592 §2.2)",
                "security": bearer,
                "parameters": _CLIENT_ID_PARAM,
                "requestBody": body,
                "responses": {"200": information, **errors},
            },
            "delete": {
                "operationId": "delete_client_configuration",
                "tags": ["oauth"],
                "summary": "A dynamic client deletes its registration (RFC 7592 §2.3)",
                "security": bearer,
                "parameters": _CLIENT_ID_PARAM,
                "responses": {"204": {"description": "Deleted"}, **errors},
            },
        },
    }


def _ops_operations() -> dict[str, dict[str, Any]]:
    return {
        "/health": {
            "get": {
                "operationId": "health",
                "tags": ["operations"],
                "summary": "Liveness: the process answers",
                "responses": {"200": _json('`{"status": "ok"}`')},
            }
        },
        "/ready": {
            "get": {
                "operationId": "ready",
                "tags": ["operations"],
                "summary": "Readiness: the database and the cache are reachable",
                "responses": {
                    "200": _json("Ready"),
                    "503": _json('`{"status": "unavailable", "checks": {…}}`'),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "tags": ["operations"],
                "summary": "Prometheus metrics (a bearer token when METRICS_TOKEN is set)",
                "responses": {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": _api_error("401"),
                    "503": _api_error("503"),
                },
            }
        },
    }


def _operation_id(method: str, route_name: str) -> str:
    """`get_api_admin_users_list_users` from the route `provider.api_admin_users.list_users`."""
    return f"{method}_{route_name.split('.', 1)[-1]}".replace(".", "_")


def _api_operation(path: str, method: str, handler: Any, route_name: str) -> dict[str, Any]:
    declared = api_doc.declared(handler)
    operation_id = _operation_id(method, route_name)
    operation: dict[str, Any] = {"operationId": operation_id}
    if declared is not None:
        if declared.summary:
            operation["summary"] = declared.summary
        if declared.description:
            operation["description"] = declared.description
        if declared.tags:
            operation["tags"] = list(dict.fromkeys(declared.tags))
    secured = declared is not None and declared.secured
    if secured:
        operation["security"] = [{"bearer": []}]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(path)
    ]
    if parameters:
        operation["parameters"] = parameters
    body = declared.body if declared is not None else None
    if body is not None:
        operation["requestBody"] = {
            "content": {media: {"schema": schema} for media, schema in body.items()},
            "required": True,
        }
    declared_statuses = (
        {str(status) for status in declared.responses} if declared is not None else set()
    )
    successes = sorted(s for s in declared_statuses if s.startswith("2")) or ["200"]
    responses: dict[str, Any] = {}
    for status in successes:
        described = declared.responses.get(int(status)) if declared is not None else None
        description = described or "OK"
        if path.endswith(".csv"):
            responses[status] = {
                "description": description,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        else:
            responses[status] = _json(description)
    errors = {s for s in declared_statuses if s[0] in "45"} | {"400", "503"}
    if secured:
        errors |= {"401", "403"}
    if parameters:
        errors.add("404")
    if body is not None:
        errors |= {"413", "415"}
    errors |= _API_EXTRA_ERRORS.get(operation_id, set())
    for status in sorted(errors):
        responses[status] = _api_error(status)
    operation["responses"] = responses
    return operation


def _api_paths(app: App) -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if not path.startswith("/v1/"):
            continue
        openapi_path = _PARAM.sub(r"{\1}", path)
        for method in sorted(route.methods):
            lowered = method.lower()
            if lowered not in _METHODS:
                continue
            operation = _api_operation(path, lowered, route.handler, route.name)
            paths.setdefault(openapi_path, {})[lowered] = operation
    return paths


def _components() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, description in ERROR_DESCRIPTIONS.items():
        responses[f"ApiError{status}"] = {
            "description": description,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/ApiError"}}},
        }
        responses[f"OAuthError{status}"] = {
            "description": f"{description} (RFC 6749 §5.2 error body)",
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
        }
    return {
        "schemas": {"ApiError": API_ERROR_SCHEMA, "OAuthError": OAUTH_ERROR_SCHEMA},
        "responses": responses,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "clientBasic": {"type": "http", "scheme": "basic"},
        },
    }


def build_document(app: App, issuer: str) -> dict[str, Any]:
    """The whole document; operationIds are unique and every error status is listed."""
    paths = {
        **_oauth_operations(),
        **_registration_operations(),
        **_api_paths(app),
        **_ops_operations(),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Provider API",
            "version": "1.0.0",
            "description": (
                "OAuth 2.1 / OpenID Connect endpoints and the first-party JSON API of the "
                "provider. "
                'JSON API errors are `{"error": {"code", "message", "details"?, "request_id"}}`; '
                "OAuth endpoints answer RFC 6749 §5.2 bodies. Any endpoint may answer 503 with "
                "`Retry-After` while a store is unreachable."
            ),
        },
        "servers": [{"url": issuer}],
        "tags": [
            {"name": name} for name in ("oauth", "discovery", "account", "admin", "operations")
        ],
        "paths": dict(sorted(paths.items())),
        "components": _components(),
    }


_SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<title>Provider API</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<div id="openapi"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.onload = function () {{
  SwaggerUIBundle({{url: "/docs/openapi.json", dom_id: "#openapi", deepLinking: true}});
}};
</script>
</body>
</html>
"""


def docs_blueprint(app: App, issuer: str) -> Blueprint:
    """GET /docs (Swagger UI), its assets under /docs/assets, and GET /docs/openapi.json; the
    document is built at first use."""
    bp = Blueprint("docs", url_prefix="/docs")
    built: dict[str, dict[str, Any]] = {}

    async def document(request: Request) -> HTTPResponse:
        if "document" not in built:
            built["document"] = build_document(app, issuer)
        return json_response(built["document"])

    async def ui(request: Request, body: str) -> HTTPResponse:
        return html(body)

    bp.add_route(document, "/openapi.json", methods=["GET"], name="document")
    bp.static("/assets", SWAGGER_UI_DIR, name="assets")
    bp.add_route(partial(ui, body=_SWAGGER_PAGE.format(assets=SWAGGER_UI)), "", name="ui")
    return bp
