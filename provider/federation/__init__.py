"""Upstream identity providers: sign in here with an account held elsewhere (Google, GitHub, …).

The configuration (`providers`, `presets`), the client that talks to an upstream
(`upstream`, `id_tokens`), the state of a sign-in while the browser is away (`pending`), and the
rules that turn an upstream identity into a local sign-in (`linking`), which end in the same
`provider.accounts.login.finish_login` as a password.
"""
