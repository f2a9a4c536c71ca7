# Python venvs for the end-to-end tests, under target/venv/NAME, created once per requirement.
# ensure_venv NAME PYTHON_VERSION REQUIREMENT...: finds pythonX.Y on PATH or under pyenv.
# Safe to run for different NAMEs side by side (tests/run does): each has its own directory.

find_python() {
  local v=$1 p
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v"*/bin/python"$v" "python$v"; do
    # a pyenv shim exists even when that version is not selected: ask it to run
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import venv' >/dev/null 2>&1; then command -v "$p"; return 0; fi
  done
  return 1
}

ensure_venv() {
  local name=$1 version=$2; shift 2
  local dir="target/venv/$name" want="$version $*" py
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  py=$(find_python "$version") || { echo "python$version not found (pyenv install $version, or apt-get install python$version-venv)" >&2; return 1; }
  echo "setting up $dir: $* (python $version)" >&2
  rm -rf "$dir"
  # Explicit returns: a caller's `ensure_venv A || ensure_venv B` turns off set -e in here, and a
  # failed install must not be marked as done.
  "$py" -m venv "$dir" || return 1
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" ||
    { echo "pip install $* into $dir failed" >&2; return 1; }
  echo "$want" > "$dir/.requirements"
}
