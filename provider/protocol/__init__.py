"""The OAuth 2.1 / OpenID Connect endpoints: each parses its request, calls the core, answers.

The rules they apply (grants, PKCE, the authorization decision, issuance) live in `provider.oauth`.
"""
