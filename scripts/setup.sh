#!/usr/bin/env bash
# Set up dofkit in ./.venv: Debian GL libraries if missing, a venv, torch pinned to the CPU
# build (constraints.txt), and dofkit itself in editable mode with every extra.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=0
for lib in libEGL.so.1 libGL.so.1 libEGL_mesa.so.0; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || missing=1
done
packages=""
[ "$missing" = 1 ] && packages="libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri"  # headless OpenGL
# Debian's chromium: the web app's browser test drives it with Playwright (no browser download).
[ -x /usr/bin/chromium ] || packages="$packages chromium"
if [ -n "$packages" ]; then
  echo "setup: installing $packages" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $packages >&2
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >&2
# Every extra declared in pyproject.toml (dev, train, ray, ...), so tests of each can run.
EXTRAS=$(.venv/bin/python - <<'PY'
import re
text = open("pyproject.toml", encoding="utf-8").read()
section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
print(",".join(re.findall(r"^([A-Za-z0-9_-]+)\s*=", section, re.M)))
PY
)
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt \
    -e ".[$EXTRAS]" >&2
echo "setup: ready ($(.venv/bin/dofkit --version))" >&2
