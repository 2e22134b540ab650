#!/usr/bin/env bash
# One-stop set-up for a fresh clone: Debian packages, .venv with the Python packages, verified models.
# Then runs the requested job:
#   scripts/setup.sh demo   -> analyse the bundled sample clip and start the clinic app on http://localhost:8501
#   scripts/setup.sh test   -> run the whole test suite (what .ci/run runs)
#   scripts/setup.sh        -> set up only
# Only the package registries are used (Debian, PyPI, npm). Safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Debian packages: chromium (browser tests), ffmpeg (ffprobe checks, fake-camera .y4m), fonts,
# Mesa EGL/OSMesa (offscreen 3D rendering of the rear-view synthetic runner), libGL for OpenCV,
# postgresql (the tests start a throw-away server to run the records tests on PostgreSQL too: tests/pg.py),
# iproute2 + util-linux (ip, unshare: tests/test_no_network.py runs the CLI and the app in a network namespace).
APT_PACKAGES=(chromium ffmpeg fonts-dejavu-core libgl1 libegl1 libegl-mesa0 libgles2 libosmesa6 libglib2.0-0 postgresql
              iproute2 util-linux)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.runform-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".[dev]" 2> >(grep -v "^WARNING: Location" >&2)
  touch "$stamp"
fi

.venv/bin/python scripts/fetch_models.py full heavy
.venv/bin/python scripts/fetch_body.py   # CC0 body mesh for the synthetic rear-view runner

case "${1:-}" in
  demo)
    shift
    exec .venv/bin/runform demo "$@"
    ;;
  test)
    shift
    set +e
    .venv/bin/python -m pytest "$@"
    rc=$?
    if [ $rc -eq 5 ]; then echo "setup: pytest collected no tests: that is a failure" >&2; exit 1; fi
    exit $rc
    ;;
  "") echo "setup: done. .venv/bin/runform --help" ;;
  *) echo "usage: scripts/setup.sh [demo|test] [args]" >&2; exit 2 ;;
esac
