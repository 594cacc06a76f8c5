#!/usr/bin/env bash
# onnx and onnxruntime check `explainer export --onnx` (tests/test_export_onnx.py): onnx writes the model,
# onnxruntime runs it against NumPy. Optional, like torch: onnxruntime's wheels come later than new Python
# versions and not for every platform, so where they can't be had the ONNX tests are skipped and everything
# else still runs. A user who only exports needs onnx alone: pip install -e '.[onnx]'.
set -uo pipefail
py="$1"
"$py" -c "import onnx, onnxruntime" 2>/dev/null && exit 0
[[ -f "$(dirname "$py")/../.explainer-no-onnx" ]] && exit 0
echo "bootstrap: installing onnx and onnxruntime for the ONNX export tests"
if ! "$py" -m pip install -q "onnx>=1.15" "onnxruntime>=1.17" 2>/dev/null; then
  echo "bootstrap: onnx/onnxruntime are not available here; the ONNX export tests will be skipped"
  touch "$(dirname "$py")/../.explainer-no-onnx"
fi
exit 0
