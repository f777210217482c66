#!/usr/bin/env bash
# The README's operator-API example is examples/op_quickstart.c, verbatim
# (the example itself is built and run as the example_op_quickstart test).
#   tests/test_readme_examples.sh SOURCE_DIR
set -euo pipefail
SRC=$1
block=$(awk '/^## The operator API/{f=1} f&&/^```c$/{c=1; next} c&&/^```$/{exit} c' "$SRC/README.md")
if ! diff <(printf '%s\n' "$block") "$SRC/examples/op_quickstart.c"; then
  echo "FAIL: README.md's operator API example differs from examples/op_quickstart.c (< README, > file)"
  exit 1
fi
echo "README operator API example matches examples/op_quickstart.c"
