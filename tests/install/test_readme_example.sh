#!/usr/bin/env bash
# The README's C examples, compiled verbatim against an install in a
# temporary prefix with pkg-config (shared and --static) and run outside
# the repository:
#  - the ```c block of "## The C API" (required). If it takes the model
#    path from argv[1] it gets testdata/default/model.onnx; otherwise it is
#    run from the repository root, where its relative path resolves. It
#    must print "y[0] = <number>".
#  - the ```c block of "## The operator API", when the README has one
#    (include <onnorm_ops.h> from the install; must exit 0 and print).
#   test_readme_example.sh CMAKE BUILD_DIR SOURCE_DIR
set -euo pipefail
CMAKE=$1
BUILD=$(cd "$2" && pwd)
SRC=$(cd "$3" && pwd)
CC=${CC:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

extract() { # SECTION OUT: the first ```c block under "## SECTION"
  awk -v head="## $1" '$0 == head {sec = 1; next}
       sec && /^## / {exit}
       sec && !code && /^```c[[:space:]]*$/ {code = 1; next}
       code && /^```/ {exit}
       code {print}' "$SRC/README.md" >"$2"
}

P="$TMP/prefix"
"$CMAKE" --install "$BUILD" --prefix "$P" >/dev/null
PC=$(find "$P" -name onnorm.pc)
LIBDIR=$(dirname "$(dirname "$PC")")
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
mkdir "$TMP/elsewhere"

build() { # NAME: NAME.c -> NAME (shared) and NAME_static, in $TMP/elsewhere
  (cd "$TMP/elsewhere" &&
    # shellcheck disable=SC2046
    "$CC" -std=c11 -Wall -Wextra -Werror "../$1.c" -o "$1" $(pkg-config --cflags --libs onnorm) \
      -Wl,-rpath,"$LIBDIR" &&
    # shellcheck disable=SC2046
    "$CC" -std=c11 -Wall -Wextra -Werror "../$1.c" -o "$1_static" $(pkg-config --cflags onnorm) \
      $(pkg-config --static --libs onnorm | sed 's/-lonnorm\b/-l:libonnorm.a/')) ||
    fail "the README's $1 block does not compile against the install"
}

extract "The C API" "$TMP/c_api.c"
[ -s "$TMP/c_api.c" ] || fail "no \`\`\`c block under '## The C API' in README.md"
grep -q 'onnorm_session_run' "$TMP/c_api.c" || fail "the README's C API block does not run a session"
build c_api
MODEL="$SRC/testdata/default/model.onnx"
for exe in c_api c_api_static; do
  if grep -q 'argv\[1\]' "$TMP/c_api.c"; then
    (cd "$TMP/elsewhere" && "./$exe" "$MODEL") >"$TMP/$exe.out" 2>&1 || { cat "$TMP/$exe.out" >&2; fail "$exe"; }
  else
    (cd "$SRC" && "$TMP/elsewhere/$exe") >"$TMP/$exe.out" 2>&1 || { cat "$TMP/$exe.out" >&2; fail "$exe"; }
  fi
  grep -Eq '^y\[0\] = -?[0-9]' "$TMP/$exe.out" || { cat "$TMP/$exe.out" >&2; fail "$exe printed no y[0]"; }
  echo "$exe: $(cat "$TMP/$exe.out")"
done

extract "The operator API" "$TMP/op_api.c"
if [ -s "$TMP/op_api.c" ]; then
  build op_api
  for exe in op_api op_api_static; do
    (cd "$TMP/elsewhere" && "./$exe") >"$TMP/$exe.out" 2>&1 || { cat "$TMP/$exe.out" >&2; fail "$exe"; }
    [ -s "$TMP/$exe.out" ] || fail "$exe printed nothing"
    echo "$exe: $(cat "$TMP/$exe.out")"
  done
else
  echo "no operator API block in README.md"
fi
echo "readme examples: ok"
