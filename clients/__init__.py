"""Relying-party examples that drive the provider: an OIDC web app and a resource server."""
