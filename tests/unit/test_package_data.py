"""Every file the provider reads from its own package is installed with it: `pip install .` (the
Dockerfile's way) copies only the Python modules and the files `package-data` names."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "provider"


def test_every_data_file_of_the_package_is_named_in_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["provider"]
    installed = {path for pattern in patterns for path in PACKAGE.glob(pattern)}
    tracked = subprocess.run(
        ["git", "ls-files", "provider"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    data_files = {ROOT / name for name in tracked if Path(name).suffix != ".py"}

    assert sorted(str(p.relative_to(ROOT)) for p in data_files - installed) == []
