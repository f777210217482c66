#!/usr/bin/env bash
# onnorm optimize on the PyTorch-exported models: the written file must
# (1) contain what the passes promise, (2) give the same outputs as the
# original (rtol 1e-4, atol 1e-5) and (3) pass onnx.checker where ONNX 1.12
# knows the opset (up to 17).
#   tests/graph/test_optimize.sh ONNORM_BIN SOURCE_DIR
set -euo pipefail
ONNORM=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# model | op that must be gone ("" for none) | op that must be present ("" for none)
cases=(
  "resnet_opset13|BatchNormalization|"
  "mobile_opset13|BatchNormalization|"
  "mlp_opset14|BatchNormalization|LayerNormalization"
  "mlp_opset17|BatchNormalization|LayerNormalization"
  "transformer_opset14|ReduceMean|LayerNormalization"
  "unet_groupnorm_opset17|InstanceNormalization|GroupNormalization"
  "instancenorm_style_opset13||InstanceNormalization"
  "resnet_opset9_ir3|BatchNormalization|"
  "densenet_opset8_ir3||"
  "shufflenet_opset9_ir3|BatchNormalization|"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name gone present <<<"$c"
  src="$SRC/testdata/torch/$name"
  out="$TMP/$name"
  cp -r "$src" "$out"
  if ! report=$("$ONNORM" optimize "$src/model.onnx" -o "$out/model.onnx" 2>&1); then
    fail "$name: optimize failed: $report"
    continue
  fi
  after=$(grep '^after' <<<"$report")
  if [ -n "$gone" ] && grep -q " $gone x" <<<"$after"; then fail "$name: $gone left: $after"; fi
  if [ -n "$present" ] && ! grep -q " $present x" <<<"$after"; then fail "$name: no $present: $after"; fi
  if ! "$ONNORM" test "$out" --rtol 1e-4 --atol 1e-5 >"$TMP/test.log" 2>&1; then
    fail "$name: optimized outputs differ"; cat "$TMP/test.log"
  fi
  opset=$("$ONNORM" info "$out/model.onnx" | sed -n 's/.*ai.onnx=\([0-9]*\).*/\1/p')
  if [ "$opset" -le 17 ] && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import onnx" 2>/dev/null; then
    if ! /usr/bin/python3 -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" \
        "$out/model.onnx" >"$TMP/check.log" 2>&1; then
      fail "$name: onnx.checker rejects the written model"; cat "$TMP/check.log"
    fi
  fi
  echo "ok: $name: $after"
done
[ "$fails" -eq 0 ] && echo "all optimized models verified" || { echo "$fails failure(s)"; exit 1; }
