# Sourced by scripts/dev and scripts/test: make sure .venv exists and holds the project.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
EXTRAS="${SETRUM_VENV_EXTRAS:-}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating virtual environment in .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.setrum-installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing Setrum${EXTRAS:+ [$EXTRAS]} into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${EXTRAS:+[$EXTRAS]}"
  touch "$stamp"
fi
