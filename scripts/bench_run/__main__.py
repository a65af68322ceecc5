"""`python -m scripts.bench_run [--quick] …` (what `scripts/bench` runs)."""

from __future__ import annotations

from scripts.bench_run.run import main

raise SystemExit(main())
