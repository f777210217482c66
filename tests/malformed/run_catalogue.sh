#!/bin/bash
# Runs the malformed-input catalogue (manifest.tsv, written by
# gen_malformed.py; fuzz findings appended from fuzz_findings.tsv) through
# the CLI and checks each case's exit status and message substring, that no
# sanitizer or crash report appears, and (outside sanitizer builds) that it
# fits a 2 GiB address space: a few-hundred-byte file must not make onnorm
# allocate gigabytes.
#   usage: run_catalogue.sh ONNORM_BINARY [CATALOGUE_DIR]
# Commands: info  -> onnorm info FILE
#           run   -> onnorm run FILE --warmup 0 --repeat 1 --threads 1
#                    --max-arena-bytes 256M
#           tensor-> onnorm run identity_model.onnx --input x=FILE ...
set -uo pipefail
ONNORM=$(realpath "$1")
DIR=$(realpath "${2:-$(dirname "$0")}")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/onnorm-malformed.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$DIR"
failures=0 n=0
while IFS=$'\t' read -r file cmd want sub; do
    case $file in '#'* | '') continue ;; esac
    n=$((n + 1))
    case $cmd in
    info) args=(info "$file") ;;
    run) args=(run "$file" --warmup 0 --repeat 1 --threads 1 --max-arena-bytes 256M) ;;
    tensor) args=(run identity_model.onnx --input "x=$file" --warmup 0 --repeat 1 --threads 1) ;;
    optimize) args=(optimize "$file" -o "$TMP/out.onnx") ;;
    *) echo "FAIL: $file: unknown command '$cmd' in the manifest"; failures=$((failures + 1)); continue ;;
    esac
    (
        [ -n "${ONNORM_SANITIZED:-}" ] || ulimit -v $((2 * 1024 * 1024))
        exec timeout 60 "$ONNORM" "${args[@]}"
    ) >"$TMP/out" 2>"$TMP/err"
    rc=$?
    why=""
    [ "$rc" = "$want" ] || why="exit $rc, expected $want"
    if [ -n "$sub" ] && ! grep -qF -- "$sub" "$TMP/err"; then why="$why; message lacks '$sub'"; fi
    if grep -qE "Sanitizer|runtime error:|Segmentation|Aborted|core dumped" "$TMP/err"; then
        why="$why; a crash or sanitizer report"
    fi
    if [ -n "$why" ]; then
        echo "FAIL: $file ($cmd): ${why#; }"
        sed 's/^/    /' "$TMP/err" | head -5
        failures=$((failures + 1))
    else
        echo "ok: $file ($cmd): exit $rc: $(head -c 160 "$TMP/err" | tr '\n' ' ')"
    fi
done <manifest.tsv
# Usage errors of the limit options themselves.
for bad in 0 -5 12Q 99999999999T ""; do
    n=$((n + 1))
    "$ONNORM" run ext_ok.onnx --max-arena-bytes "$bad" >/dev/null 2>"$TMP/err"
    rc=$?
    if [ $rc = 2 ] && grep -q "max-arena-bytes" "$TMP/err"; then
        echo "ok: --max-arena-bytes '$bad' is a usage error"
    else
        echo "FAIL: --max-arena-bytes '$bad': exit $rc"
        failures=$((failures + 1))
    fi
done
echo "$n cases, $failures failure(s)"
[ $failures = 0 ]
