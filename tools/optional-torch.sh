#!/usr/bin/env bash
# torch is the optional oracle for the gradient tests. `pip install torch==2.13.0`
# takes the CPU build that lies on these machines; where it can't be had, the
# torch tests are skipped and everything else still runs.
set -uo pipefail
py="$1"
"$py" -c "import torch" 2>/dev/null && exit 0
[[ -f "$(dirname "$py")/../.explainer-no-torch" ]] && exit 0
echo "bootstrap: installing torch==2.13.0 (CPU) for the oracle tests"
if ! "$py" -m pip install -q "torch==2.13.0" 2>/dev/null; then
  echo "bootstrap: torch==2.13.0 is not available here; the torch oracle tests will be skipped"
  touch "$(dirname "$py")/../.explainer-no-torch"
fi
exit 0
