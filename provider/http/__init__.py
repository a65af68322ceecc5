"""HTTP plumbing shared by every adapter: request context, bodies, responses, cookies, pages.

The JSON API, the hosted pages and the OAuth endpoints all import it; it imports none of them.
"""
