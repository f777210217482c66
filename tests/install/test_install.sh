#!/usr/bin/env bash
# Install and packaging: `cmake --install` into a temporary prefix, then
#  - the installed files, the soname and the exported symbols (exactly
#    the onnorm_* functions the installed headers declare, in libonnorm.so
#    and as the only globals of libonnorm.a: no onnx__ or onn_ symbol),
#  - an out-of-tree consumer (consumer.c) built with pkg-config against
#    the shared library and, with its own protobuf-c bindings of onnx.proto,
#    against the static one (pkg-config --static),
#  - the same consumer built by a tiny CMake project with find_package
#    (onnorm::onnorm and onnorm::onnorm_static),
#  - the installed CLI,
# each run on testdata/default and checked against its expected output.
#   test_install.sh CMAKE BUILD_DIR SOURCE_DIR
set -euo pipefail
CMAKE=$1
BUILD=$(cd "$2" && pwd)
SRC=$(cd "$3" && pwd)
HERE="$SRC/tests/install"
CC=${CC:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

P="$TMP/prefix"
"$CMAKE" --install "$BUILD" --prefix "$P" >"$TMP/install.log" || { cat "$TMP/install.log"; fail "cmake --install"; }

PC=$(find "$P" -name onnorm.pc)
[ -n "$PC" ] || fail "no onnorm.pc installed"
LIBDIR=$(dirname "$(dirname "$PC")")
for f in "$P/include/onnorm.h" "$LIBDIR/libonnorm.a" "$LIBDIR/libonnorm.so" "$P/bin/onnorm" \
         "$LIBDIR/cmake/onnorm/onnormConfig.cmake" "$LIBDIR/cmake/onnorm/onnormConfigVersion.cmake" \
         "$LIBDIR/cmake/onnorm/onnormTargets.cmake"; do
  [ -e "$f" ] || fail "not installed: ${f#$P/}"
done
[ "$(find "$LIBDIR" -maxdepth 1 -name '*proto*' | wc -l)" -eq 0 ] || fail "a separate proto library was installed"

# Version: the header, the project (pkg-config) and the soname agree.
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
VERSION=$(pkg-config --modversion onnorm)
HVERSION=$(sed -n 's/^#define ONNORM_VERSION "\(.*\)"/\1/p' "$P/include/onnorm.h")
[ "$VERSION" = "$HVERSION" ] || fail "onnorm.pc says $VERSION, onnorm.h says $HVERSION"
SONAME=$(objdump -p "$LIBDIR/libonnorm.so" | awk '$1 == "SONAME" {print $2}')
case "$SONAME" in
  libonnorm.so.${VERSION%%.*}*) ;;
  *) fail "soname '$SONAME' does not carry version $VERSION" ;;
esac
[ -e "$LIBDIR/$SONAME" ] || fail "$SONAME is not installed"
[ -f "$LIBDIR/libonnorm.so.$VERSION" ] || fail "libonnorm.so.$VERSION is not installed"

# Exported symbols: exactly the extern functions the installed headers
# declare (gcc -aux-info lists them; static inline helpers are not symbols).
for h in "$P"/include/*.h; do echo "#include <$(basename "$h")>"; done >"$TMP/headers.c"
if gcc -std=c11 -fsyntax-only -I"$P/include" -aux-info "$TMP/headers.aux" "$TMP/headers.c" 2>/dev/null; then
  grep -F "$P/include/" "$TMP/headers.aux" | grep -o '\*/ extern .*[ *]onnorm_[a-z0-9_]* (' |
    sed 's/.*[ *]\(onnorm_[a-z0-9_]*\) ($/\1/' | sort -u >"$TMP/header.syms"
else # no gcc: every onnorm_x( outside a static inline line
  cat "$P"/include/*.h | grep -v 'static inline' | grep -o 'onnorm_[a-z0-9_]*(' | tr -d '(' |
    sort -u >"$TMP/header.syms"
fi
[ -s "$TMP/header.syms" ] || fail "found no function in the installed headers"
nm -D --defined-only "$LIBDIR/libonnorm.so" | awk '{print $NF}' | sort -u >"$TMP/so.syms"
nm -g --defined-only "$LIBDIR/libonnorm.a" | awk 'NF == 3 {print $3}' | sort -u >"$TMP/a.syms"
if grep -v '^onnorm_' "$TMP/so.syms" >"$TMP/so.extra"; then
  fail "libonnorm.so exports non-API symbols: $(head -5 "$TMP/so.extra" | tr '\n' ' ')"
fi
if grep -v '^onnorm_' "$TMP/a.syms" >"$TMP/a.extra"; then
  fail "libonnorm.a has global non-API symbols: $(head -5 "$TMP/a.extra" | tr '\n' ' ')"
fi
diff "$TMP/header.syms" "$TMP/so.syms" >/dev/null ||
  fail "libonnorm.so exports differ from the headers: $(diff "$TMP/header.syms" "$TMP/so.syms" | grep '^[<>]' | tr '\n' ' ')"
diff "$TMP/header.syms" "$TMP/a.syms" >/dev/null ||
  fail "libonnorm.a globals differ from the headers: $(diff "$TMP/header.syms" "$TMP/a.syms" | grep '^[<>]' | tr '\n' ' ')"
echo "symbols: $(wc -l <"$TMP/so.syms") onnorm_* exported, soname $SONAME"

MODEL="$SRC/testdata/default/model.onnx"
DATA="$SRC/testdata/default/test_data_set_0"
check() { # NAME BINARY: run the consumer from an unrelated directory
  (cd "$TMP" && "$2" "$MODEL" "$DATA/input_0.pb" "$DATA/output_0.pb") >"$TMP/$1.out" 2>&1 ||
    { cat "$TMP/$1.out" >&2; fail "$1 consumer"; }
  grep -q '^consumer ok' "$TMP/$1.out" || fail "$1 consumer printed no result"
  echo "$1: $(tail -1 "$TMP/$1.out")"
}

# pkg-config, shared: must resolve libonnorm.so from the prefix.
# shellcheck disable=SC2046
"$CC" -std=c11 -Wall -Werror "$HERE/consumer.c" -o "$TMP/pc_shared" $(pkg-config --cflags --libs onnorm) -lm \
  -Wl,-rpath,"$LIBDIR"
# (ldd into a file first: grep -q closing the pipe early would fail it
# under pipefail.)
ldd "$TMP/pc_shared" >"$TMP/ldd" && grep -q "$LIBDIR/$SONAME" "$TMP/ldd" || fail "pc_shared does not load $LIBDIR/$SONAME"
check pc_shared "$TMP/pc_shared"

# pkg-config --static, next to the consumer's own onnx.proto bindings
# (same onnx__* names as onnorm's internal ones). They are linked after
# libonnorm.a, so that an archive exporting onnx__* would be pulled in
# first for the consumer's own references and then clash ("multiple
# definition"), as a build-tree archive of onnorm's objects does.
protoc-c --proto_path=/usr/include/onnx --c_out="$TMP" /usr/include/onnx/onnx.proto
"$CC" -std=c11 -c -I"$TMP" "$TMP/onnx.pb-c.c" -o "$TMP/own_onnx.o"
STATIC_LIBS=$(pkg-config --static --libs onnorm | sed 's/-lonnorm\b/-l:libonnorm.a/')
# shellcheck disable=SC2086,SC2046
"$CC" -std=c11 -Wall -Werror -DWITH_OWN_ONNX_BINDINGS -I"$TMP" $(pkg-config --cflags onnorm) "$HERE/consumer.c" \
  $STATIC_LIBS "$TMP/own_onnx.o" -o "$TMP/pc_static"
ldd "$TMP/pc_static" >"$TMP/ldd"
if grep -q libonnorm "$TMP/ldd"; then fail "pc_static links libonnorm.so"; fi
check pc_static "$TMP/pc_static"
grep -q '^own bindings: [1-9]' "$TMP/pc_static.out" || fail "pc_static: own onnx bindings did not run"

# find_package(onnorm) in a tiny CMake project.
"$CMAKE" -S "$HERE/cmake_consumer" -B "$TMP/cmake_build" -DCMAKE_PREFIX_PATH="$P" \
  -DCMAKE_BUILD_TYPE=Release >"$TMP/cmake.log" 2>&1 || { cat "$TMP/cmake.log" >&2; fail "find_package configure"; }
"$CMAKE" --build "$TMP/cmake_build" >>"$TMP/cmake.log" 2>&1 || { cat "$TMP/cmake.log" >&2; fail "find_package build"; }
ldd "$TMP/cmake_build/consumer_shared" >"$TMP/ldd" && grep -q "$LIBDIR/$SONAME" "$TMP/ldd" ||
  fail "consumer_shared does not load $LIBDIR/$SONAME"
ldd "$TMP/cmake_build/consumer_static" >"$TMP/ldd"
if grep -q libonnorm "$TMP/ldd"; then fail "consumer_static links libonnorm.so"; fi
check cmake_shared "$TMP/cmake_build/consumer_shared"
check cmake_static "$TMP/cmake_build/consumer_static"

# The installed CLI.
(cd "$TMP" && "$P/bin/onnorm" test "$SRC/testdata/default") >"$TMP/cli.out" 2>&1 ||
  { cat "$TMP/cli.out" >&2; fail "installed onnorm test"; }
echo "installed CLI: $(tail -1 "$TMP/cli.out")"
echo "install: ok"
