"""Load benchmark of the provider's hot paths (`scripts/bench`; see README, "Benchmark").

The provider runs in production mode on PostgreSQL and Redis, pinned to its own core(s); wrk and a
small httpx login driver load it from another core; a bare Sanic JSON handler measured in the same
run gives the framework ceiling the provider's figures are compared to, and node-oidc-provider 9
(scripts/bench_peer, installed with npm under var/) goes through the same scenarios beside the
one-worker phase, pinned the same way, for the side-by-side table (--no-peer leaves it out).
"""
