"""Signing in, on the JSON API and the hosted pages: passwords, lockout, rate limits, second
factors, re-authentication and what a session becomes afterwards."""
