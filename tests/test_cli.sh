#!/bin/bash
# End-to-end checks of the onnorm command-line tool.
#   usage: test_cli.sh ONNORM_BINARY SOURCE_DIR
# Exits 0 when every check passes, 1 otherwise; each failure is explained.
set -euo pipefail
# The tool chooses the OpenMP wait policy itself unless the user did.
unset OMP_WAIT_POLICY GOMP_SPINCOUNT

if [ $# -ne 2 ]; then
    echo "usage: $0 ONNORM_BINARY SOURCE_DIR" >&2
    exit 2
fi
ONNORM=$1
SRC=$2
DEFAULT="$SRC/testdata/default"
GN="$SRC/testdata/groupnorm"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/onnorm-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

# Runs the tool, capturing stdout, stderr and the exit status without
# tripping `set -e`. Usage: run NAME args...   -> $TMP/NAME.{out,err}, $rc
run() {
    local name=$1
    shift
    rc=0
    "$ONNORM" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
}

show() { # prints a captured run for a failure report
    echo "--- stdout ($1):" >&2
    head -n 40 "$TMP/$1.out" >&2
    echo "--- stderr ($1):" >&2
    head -n 40 "$TMP/$1.err" >&2
}

[ -x "$ONNORM" ] || { echo "FAIL: $ONNORM is not executable" >&2; exit 1; }
[ -f "$DEFAULT/model.onnx" ] || { echo "FAIL: $DEFAULT/model.onnx is missing" >&2; exit 1; }

# ---- onnorm info ------------------------------------------------------------
run info info "$DEFAULT/model.onnx"
if [ $rc -ne 0 ]; then
    fail "onnorm info exited $rc"; show info
elif ! grep -q "BatchNormalization" "$TMP/info.out"; then
    fail "onnorm info does not list BatchNormalization"; show info
elif ! grep -q "all nodes supported" "$TMP/info.out"; then
    fail "onnorm info does not say that all nodes are supported"; show info
elif grep -q "UNSUPPORTED" "$TMP/info.out"; then
    fail "onnorm info reports an unsupported node"; show info
else
    pass "info lists BatchNormalization, all supported"
fi

# ---- onnorm run with a given input --------------------------------------------
mkdir -p "$TMP/out"
run run_input run "$DEFAULT/model.onnx" --input "x=$DEFAULT/test_data_set_0/input_0.pb" \
    --output-dir "$TMP/out" --repeat 2
if [ $rc -ne 0 ]; then
    fail "onnorm run --input exited $rc"; show run_input
elif ! grep -Eq "^[[:space:]]+y: " "$TMP/run_input.out"; then
    fail "onnorm run does not print the output name y"; show run_input
elif [ ! -s "$TMP/out/y.pb" ]; then
    fail "onnorm run did not write $TMP/out/y.pb"; show run_input
else
    pass "run --input prints y and writes y.pb"
fi

# The written output must equal the expected output of the test set: feed
# it back as the expected output of a copy of the test folder.
if [ -s "$TMP/out/y.pb" ]; then
    mkdir -p "$TMP/roundtrip/test_data_set_0"
    cp "$DEFAULT/model.onnx" "$TMP/roundtrip/"
    cp "$DEFAULT/test_data_set_0/input_0.pb" "$TMP/roundtrip/test_data_set_0/"
    cp "$TMP/out/y.pb" "$TMP/roundtrip/test_data_set_0/output_0.pb"
    run roundtrip test "$TMP/roundtrip" --rtol 0 --atol 0
    if [ $rc -ne 0 ]; then
        fail "y.pb written by onnorm run does not match a fresh run exactly"; show roundtrip
    else
        pass "y.pb matches a fresh run bit for bit"
    fi
    run roundtrip_exp test "$DEFAULT"
    if [ $rc -ne 0 ]; then
        fail "onnorm test on testdata/default failed"; show roundtrip_exp
    fi
fi

# ---- onnorm run without --input (deterministic fill) -----------------------------
mkdir -p "$TMP/fill1" "$TMP/fill2"
run fill1 run "$DEFAULT/model.onnx" --output-dir "$TMP/fill1" --repeat 1
run_fill1=$rc
run fill2 run "$DEFAULT/model.onnx" --output-dir "$TMP/fill2" --repeat 1 --threads 1
if [ $run_fill1 -ne 0 ] || [ $rc -ne 0 ]; then
    fail "onnorm run without --input exited $run_fill1 / $rc"; show fill1; show fill2
elif ! grep -q "deterministic" "$TMP/fill1.out"; then
    fail "onnorm run without --input does not say the input was filled"; show fill1
elif ! grep -Eq "^[[:space:]]+y: " "$TMP/fill1.out" || [ ! -s "$TMP/fill1/y.pb" ]; then
    fail "onnorm run without --input printed no y or wrote no y.pb"; show fill1
elif ! cmp -s "$TMP/fill1/y.pb" "$TMP/fill2/y.pb"; then
    fail "two runs without --input produced different outputs (fill is not deterministic)"
else
    pass "run without --input fills deterministically"
fi

# ---- the profiler ------------------------------------------------------------------
run prof run "$DEFAULT/model.onnx" --repeat 3 --threads 1 --profile --trace "$TMP/trace.json"
if [ $rc -ne 0 ]; then
    fail "onnorm run --profile exited $rc"; show prof
elif ! grep -q "on 1 thread (OpenMP wait policy passive)," "$TMP/prof.out"; then
    fail "onnorm run does not print the thread count and the passive wait policy it chose"
    show prof
elif ! grep -Eq "^  BatchNormalization +2 " "$TMP/prof.out" ||
     ! grep -Eq "^  LayerNormalization +1 " "$TMP/prof.out"; then
    fail "onnorm run --profile does not list the op types with their node counts"; show prof
elif ! python3 - "$TMP/trace.json" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))
assert len(events) == 3 * 4, len(events)  # 3 runs of 4 nodes
assert all(e["ph"] == "X" and e["dur"] >= 0 and e["cat"] == "Node" for e in events)
assert {e["args"]["op_name"] for e in events} == {
    "BatchNormalization", "InstanceNormalization", "LayerNormalization"}
PY
then
    fail "the Chrome trace written by --trace is not 12 complete events of the 4 nodes"
else
    pass "run --profile and --trace: op types, thread count, a Chrome trace of 3 x 4 events"
fi
run bprof bench "$DEFAULT/model.onnx" --iters 5 --threads 1 --profile
if [ $rc -ne 0 ] || ! python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d["threads"] == 1 and set(d["profile"]) == {
    "BatchNormalization", "InstanceNormalization", "LayerNormalization"}
assert abs(sum(v["share"] for v in d["profile"].values()) - 1) < 1e-3
' "$TMP/bprof.out"; then
    fail "onnorm bench --profile did not print a JSON line with the profile by op type"; show bprof
else
    pass "bench --profile: the JSON line holds the thread count and the shares by op type"
fi

# ---- onnorm test on the GroupNormalization folders ------------------------------
run gn test "$GN"
last=$(tail -n 1 "$TMP/gn.out")
if [ $rc -ne 0 ]; then
    fail "onnorm test $GN exited $rc"; show gn
elif ! [[ $last =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
    fail "unexpected last line of onnorm test: '$last'"; show gn
elif [[ $last =~ ^0\ passed ]]; then
    fail "onnorm test ran no case: '$last'"
else
    pass "test groupnorm: $last"
fi

# ---- onnorm test on a corrupted expected output ----------------------------------
# The expected output is replaced with the case's own input: same dtype and
# shape as the real output, different values, so only the values comparison
# can catch it.
case_dir=$(find "$GN" -mindepth 1 -maxdepth 1 -type d -name 'example_opset21' | head -n 1)
[ -n "$case_dir" ] || case_dir=$(find "$GN" -mindepth 1 -maxdepth 1 -type d | sort | head -n 1)
cp -r "$case_dir" "$TMP/corrupt"
cp "$TMP/corrupt/test_data_set_0/input_0.pb" "$TMP/corrupt/test_data_set_0/output_0.pb"
run corrupt test "$TMP/corrupt"
if [ $rc -eq 0 ]; then
    fail "onnorm test passed a case whose expected output was corrupted"; show corrupt
elif [ $rc -ge 128 ]; then
    fail "onnorm test crashed (exit $rc) on a corrupted case"; show corrupt
elif ! grep -q "FAIL" "$TMP/corrupt.out"; then
    fail "onnorm test did not print FAIL for a corrupted case"; show corrupt
elif ! tail -n 1 "$TMP/corrupt.out" | grep -Eq '^0 passed, 1 failed$'; then
    fail "unexpected summary for a corrupted case"; show corrupt
else
    pass "test on a corrupted case fails with FAIL"
fi

# A missing expected output is a failure too, not a pass.
cp -r "$case_dir" "$TMP/noexp"
rm "$TMP/noexp/test_data_set_0/output_0.pb"
run noexp test "$TMP/noexp"
if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
    fail "onnorm test on a case without expected output exited $rc"; show noexp
else
    pass "test on a case without expected output fails"
fi

# A folder holding no test case must not count as success.
mkdir -p "$TMP/empty"
run empty test "$TMP/empty"
if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
    fail "onnorm test on an empty folder exited $rc"; show empty
else
    pass "test on an empty folder fails"
fi

# ---- bad model files ---------------------------------------------------------------
# Deterministic garbage: the start of the onnorm executable (an ELF header is
# not protobuf) followed by text.
head -c 4096 "$ONNORM" >"$TMP/garbage.onnx"
printf 'this is not an onnx model\n' >>"$TMP/garbage.onnx"
for target in "$TMP/garbage.onnx" "$TMP/does-not-exist.onnx" "$TMP/empty.onnx"; do
    [ "$target" = "$TMP/empty.onnx" ] && : >"$target"
    for cmd in run info; do
        run bad $cmd "$target"
        label="onnorm $cmd $(basename "$target")"
        if [ $rc -eq 0 ]; then
            fail "$label exited 0"; show bad
        elif [ $rc -ge 128 ]; then
            fail "$label crashed (exit $rc)"; show bad
        elif [ ! -s "$TMP/bad.err" ]; then
            fail "$label printed nothing on stderr"; show bad
        elif ! grep -q "$(basename "$target")" "$TMP/bad.err"; then
            fail "$label: the message does not name the file"; show bad
        else
            pass "$label fails cleanly: $(head -n 1 "$TMP/bad.err")"
        fi
    done
done

# A truncated copy of the real model.
head -c 200 "$DEFAULT/model.onnx" >"$TMP/truncated.onnx"
run trunc run "$TMP/truncated.onnx"
if [ $rc -eq 0 ] || [ $rc -ge 128 ] || [ ! -s "$TMP/trunc.err" ]; then
    fail "onnorm run on a truncated model exited $rc"; show trunc
else
    pass "run on a truncated model fails cleanly"
fi

# An input file that is not a tensor, and an unknown input name.
run badin run "$DEFAULT/model.onnx" --input "x=$TMP/garbage.onnx"
if [ $rc -eq 0 ] || [ $rc -ge 128 ] || [ ! -s "$TMP/badin.err" ]; then
    fail "onnorm run with a garbage input file exited $rc"; show badin
else
    pass "run with a garbage input file fails cleanly"
fi
run badname run "$DEFAULT/model.onnx" --input "nosuch=$DEFAULT/test_data_set_0/input_0.pb"
if [ $rc -eq 0 ] || [ $rc -ge 128 ] || ! grep -q "nosuch" "$TMP/badname.err"; then
    fail "onnorm run with an unknown input name exited $rc"; show badname
else
    pass "run with an unknown input name fails and names it"
fi

# ---- usage errors ---------------------------------------------------------------------
run usage1 frobnicate
run_usage1=$rc
run usage2
if [ $run_usage1 -eq 0 ] || [ $run_usage1 -ge 128 ] || [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
    fail "usage errors exited $run_usage1 / $rc"; show usage1; show usage2
else
    pass "usage errors exit non-zero"
fi

if [ $failures -ne 0 ]; then
    echo "test_cli.sh: $failures check(s) failed" >&2
    exit 1
fi
echo "test_cli.sh: all checks passed"
exit 0
