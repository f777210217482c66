#!/bin/bash
# Seed corpora for the fuzz targets (tests/fuzz/fuzz_model.c, fuzz_tensor.c,
# fuzz_npy.c).
#   make_corpus.sh OUT_DIR           the full seeds: every official node model
#                                    (/usr/share/libonnx-testdata/data/node/*/
#                                    model.onnx, ~470 KB), every .onnx under
#                                    testdata/ up to 16 KB, the malformed
#                                    catalogue, and the TensorProto files of
#                                    the node folders' test_data_set_0 up to
#                                    4 KB; written to OUT_DIR/model and
#                                    OUT_DIR/tensor (what campaign.sh uses)
#   make_corpus.sh --subset OUT_DIR  the small subset committed as
#                                    tests/fuzz/corpus: per op, the smallest
#                                    official model (not the *_expanded forms)
#                                    up to 1 KB, tensors up to 200 bytes (at
#                                    most 300 of each)
# Files are named by content (sha1), so reruns are stable and duplicates
# collapse. Needs libonnx-testdata (as the test suite does).
set -euo pipefail
subset=0
if [ "${1:-}" = "--subset" ]; then subset=1; shift; fi
OUT=${1:?usage: make_corpus.sh [--subset] OUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NODE=${LIBONNX_TESTDATA:-/usr/share/libonnx-testdata/data}/node
[ -d "$NODE" ] || { echo "make_corpus.sh: $NODE missing (install libonnx-testdata)" >&2; exit 2; }
mkdir -p "$OUT/model" "$OUT/tensor" "$OUT/npy"
put() { # put FILE DIR: copy under its content hash
    local h
    h=$(sha1sum "$1" | cut -c1-16)
    cp "$1" "$2/$h"
}
if [ $subset = 1 ]; then
    declare -A best
    for m in "$NODE"/*/model.onnx; do
        name=$(basename "$(dirname "$m")")
        case $name in *_expanded*) continue ;; esac
        size=$(stat -c %s "$m")
        [ "$size" -le 1024 ] || continue
        op=${name#test_}
        op=${op%%_*}
        if [ -z "${best[$op]:-}" ] || [ "$size" -lt "$(stat -c %s "${best[$op]}")" ]; then
            best[$op]=$m
        fi
    done
    n=0
    for op in $(printf '%s\n' "${!best[@]}" | sort); do
        [ $n -lt 300 ] || break
        put "${best[$op]}" "$OUT/model"
        n=$((n + 1))
    done
    n=0
    for t in $(find "$NODE" -path '*test_data_set_0/*.pb' -size -201c | sort); do
        [ $n -lt 300 ] || break
        put "$t" "$OUT/tensor"
        n=$((n + 1))
    done
else
    for m in "$NODE"/*/model.onnx; do put "$m" "$OUT/model"; done
    find "$ROOT/testdata" -name '*.onnx' -size -16k | while read -r m; do put "$m" "$OUT/model"; done
    for m in "$ROOT"/tests/malformed/*.onnx; do put "$m" "$OUT/model"; done
    find "$NODE" -path '*test_data_set_0/*.pb' -size -4097c | while read -r t; do put "$t" "$OUT/tensor"; done
    for t in "$ROOT"/tests/malformed/*.pb; do put "$t" "$OUT/tensor"; done
    cp "$HERE"/corpus/model/* "$OUT/model/" 2>/dev/null || true
    cp "$HERE"/corpus/tensor/* "$OUT/tensor/" 2>/dev/null || true
fi
# .npy seeds (fuzz_npy.c): the committed set, written once by NumPy (2-D
# float32, int64, bool, float16 4-D, a 0-d float64, uint8, an empty int32,
# Fortran order, big-endian, format 2.0 and 3.0 headers)
cp "$HERE"/corpus/npy/* "$OUT/npy/" 2>/dev/null || true
echo "make_corpus.sh: $(ls "$OUT/model" | wc -l) models, $(ls "$OUT/tensor" | wc -l) tensors, $(ls "$OUT/npy" | wc -l) .npy files in $OUT"
