#!/usr/bin/env bash
# The README's operator table is exactly what `onnorm ops --all` prints.
#   tests/test_readme_ops.sh ONNORM_BIN README
set -euo pipefail
if ! diff <("$1" ops --all) <(sed -n '/<!-- onnorm ops --all: begin -->/,/<!-- onnorm ops --all: end -->/p' "$2" | sed '1d;$d'); then
  echo "FAIL: README.md's operator table differs from 'onnorm ops --all' (< tool, > README)."
  echo "Regenerate the block between the '<!-- onnorm ops --all -->' markers."
  exit 1
fi
echo "README operator table matches onnorm ops --all"
