#!/usr/bin/env bash
# The README's C API example (the ```c block of "## The C API"), compiled
# verbatim against an install in a temporary prefix with pkg-config (shared
# and --static) and run outside the repository. If the example takes the
# model path from argv[1] it gets testdata/default/model.onnx there;
# otherwise it is run from the repository root, where its relative path
# resolves.
#   test_readme_example.sh CMAKE BUILD_DIR SOURCE_DIR
set -euo pipefail
CMAKE=$1
BUILD=$(cd "$2" && pwd)
SRC=$(cd "$3" && pwd)
CC=${CC:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

awk '/^## The C API/ {sec = 1; next}
     sec && /^## / {exit}
     sec && !code && /^```c[[:space:]]*$/ {code = 1; next}
     code && /^```/ {exit}
     code {print}' "$SRC/README.md" >"$TMP/example.c"
[ -s "$TMP/example.c" ] || fail "no \`\`\`c block under '## The C API' in README.md"
grep -q 'onnorm_session_run' "$TMP/example.c" || fail "the README's C block does not run a session"

P="$TMP/prefix"
"$CMAKE" --install "$BUILD" --prefix "$P" >/dev/null
PC=$(find "$P" -name onnorm.pc)
LIBDIR=$(dirname "$(dirname "$PC")")
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

mkdir "$TMP/elsewhere"
cd "$TMP/elsewhere"
# shellcheck disable=SC2046
"$CC" -std=c11 -Wall -Wextra -Werror ../example.c -o example $(pkg-config --cflags --libs onnorm) -Wl,-rpath,"$LIBDIR"
# shellcheck disable=SC2046
"$CC" -std=c11 -Wall -Wextra -Werror ../example.c -o example_static $(pkg-config --cflags onnorm) \
  $(pkg-config --static --libs onnorm | sed 's/-lonnorm\b/-l:libonnorm.a/')

MODEL="$SRC/testdata/default/model.onnx"
for exe in example example_static; do
  if grep -q 'argv\[1\]' "$TMP/example.c"; then
    (cd "$TMP/elsewhere" && "./$exe" "$MODEL") >"$TMP/$exe.out" 2>&1 || { cat "$TMP/$exe.out" >&2; fail "$exe"; }
  else
    (cd "$SRC" && "$TMP/elsewhere/$exe") >"$TMP/$exe.out" 2>&1 || { cat "$TMP/$exe.out" >&2; fail "$exe"; }
  fi
  grep -Eq '^y\[0\] = -?[0-9]' "$TMP/$exe.out" || { cat "$TMP/$exe.out" >&2; fail "$exe printed no y[0]"; }
  echo "$exe: $(cat "$TMP/$exe.out")"
done
echo "readme example: ok"
