#!/usr/bin/env bash
# cpack -G DEB into a temporary directory: the package holds the install
# tree under /usr and depends on the shared libraries libonnorm.so needs.
# Exit 77 (skipped) without dpkg-deb.
#   test_deb.sh CPACK BUILD_DIR
set -euo pipefail
CPACK=$1
BUILD=$(cd "$2" && pwd)
command -v dpkg-deb >/dev/null || { echo "no dpkg-deb: skipped"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$TMP" && "$CPACK" -G DEB -B "$TMP" --config "$BUILD/CPackConfig.cmake") >"$TMP/cpack.log" 2>&1 ||
  { cat "$TMP/cpack.log" >&2; fail "cpack -G DEB"; }
DEB=$(find "$TMP" -maxdepth 1 -name 'onnorm_*.deb')
[ -n "$DEB" ] || fail "no .deb written"
dpkg-deb -c "$DEB" | awk '{print $6}' >"$TMP/files"
# (lib/ or lib/<multiarch>/, as GNUInstallDirs chose for the configured prefix)
LIB='\./usr/lib(/[^/]+)?'
for f in '\./usr/bin/onnorm' '\./usr/include/onnorm\.h' "$LIB/libonnorm\.a" "$LIB/libonnorm\.so" \
         "$LIB/pkgconfig/onnorm\.pc" "$LIB/cmake/onnorm/onnormConfig\.cmake"; do
  grep -Eqx "$f" "$TMP/files" || fail "$(basename "$DEB") lacks $f"
done
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for d in libprotobuf-c libopenblas libgomp; do
  case "$DEPENDS" in *"$d"*) ;; *) fail "Depends lacks $d: $DEPENDS" ;; esac
done
echo "$(basename "$DEB"): $(wc -l <"$TMP/files") entries; Depends: $DEPENDS"
