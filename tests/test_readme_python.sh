#!/usr/bin/env bash
# The README's Python example (the ```python block of its "## Python"
# section) is examples/python_quickstart.py, verbatim; the example itself is
# run as the python_example test. Exits 77 (ctest: skipped) while the
# README has no such section.
#   tests/test_readme_python.sh SOURCE_DIR
set -euo pipefail
SRC=$1
if ! grep -q '^## Python' "$SRC/README.md"; then
  echo "README.md has no '## Python' section yet"
  exit 77
fi
block=$(awk '/^## Python/{f=1} f&&/^```python$/{c=1; next} c&&/^```$/{exit} c' "$SRC/README.md")
if ! diff <(printf '%s\n' "$block") "$SRC/examples/python_quickstart.py"; then
  echo "FAIL: README.md's Python example differs from examples/python_quickstart.py (< README, > file)"
  exit 1
fi
echo "README Python example matches examples/python_quickstart.py"
