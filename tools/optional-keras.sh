#!/usr/bin/env bash
# Keras 3 is the fourth library `explainer compare` trains the same network with, on its torch backend
# (tests/test_compare.py). Optional, like torch: where either can't be had, Keras's row says why and its
# test is skipped. Installed after tools/optional-torch.sh.
set -uo pipefail
py="$1"
"$py" -c "import keras" 2>/dev/null && exit 0
"$py" -c "import torch" 2>/dev/null || exit 0
[[ -f "$(dirname "$py")/../.explainer-no-keras" ]] && exit 0
echo "bootstrap: installing keras (on its torch backend) for explainer compare's tests"
if ! "$py" -m pip install -q "keras>=3.10,<4" 2>/dev/null; then
  echo "bootstrap: keras is not available here; explainer compare's Keras row will say so"
  touch "$(dirname "$py")/../.explainer-no-keras"
fi
exit 0
