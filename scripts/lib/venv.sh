# ensure_venv [extra]: create .venv with Python >= 3.11 and install the project pinned by
# constraints.txt; reinstall only when pyproject.toml or constraints.txt changed.
ensure_venv() {
  local extra="${1:-}" python stamp want
  python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Python 3.11 or newer is required (found $("$python" --version))" >&2
    return 1
  fi
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  stamp=.venv/.installed
  want="$extra $(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c constraints.txt -e ".${extra:+[$extra]}"
    echo "$want" > "$stamp"
  fi
}
