#!/bin/bash
# End-to-end checks of the onnorm command-line tool.
#   usage: test_cli.sh ONNORM_BINARY SOURCE_DIR
# Exits 0 when every check passes, 1 otherwise; each failure is explained.
set -euo pipefail
# The tool chooses the OpenMP wait policy itself unless the user did.
unset OMP_WAIT_POLICY GOMP_SPINCOUNT ONNORM_SPIN_US
# ctest makes every `onnorm test` strict; these checks test the default too.
unset ONNORM_TEST_STRICT

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
elif ! grep -q "on 1 thread (wait: spin 100 us, then sleep; OpenMP passive)," "$TMP/prof.out"; then
    fail "onnorm run does not print the thread count and the wait policy it chose"
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
elif ! [[ $last =~ ^[0-9]+\ passed,\ 0\ failed,\ 0\ skipped$ ]]; then
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
elif ! tail -n 1 "$TMP/corrupt.out" | grep -Eq '^0 passed, 1 failed, 0 skipped$'; then
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

# ==== CLI conventions (issue 13) =======================================================
# expect NAME RC PATTERN args...: runs the tool, checks the exit status and that
# stdout+stderr match the extended regex PATTERN.
expect() {
    local name=$1 want=$2 pat=$3
    shift 3
    run "$name" "$@"
    if [ $rc -ne "$want" ]; then
        fail "onnorm $* exited $rc, expected $want"; show "$name"
    elif ! cat "$TMP/$name.out" "$TMP/$name.err" | grep -Eq -- "$pat"; then
        fail "onnorm $*: output does not match /$pat/"; show "$name"
    else
        pass "onnorm $* -> $rc, /$pat/"
    fi
}
M="$DEFAULT/model.onnx"
IN="$DEFAULT/test_data_set_0/input_0.pb"

# ---- --version, help CMD, CMD --help ---------------------------------------------------
expect version 0 "^onnorm [0-9]+\.[0-9]+\.[0-9]+$" --version
expect version_cmd 0 "^onnorm [0-9]+\.[0-9]+\.[0-9]+$" run --version
expect help_top 0 "exit status" help
declare -A OPTS=(
    [run]="--input --output-dir --threads --repeat --warmup --opt-level --profile --trace"
    [test]="--rtol --atol --atol-scale --threads --filter --strict --json --junit"
    [bench]="--input --threads --iters --warmup --opt-level --profile --trace"
    [info]=""
    [ops]="--all"
    [optimize]="-o --disable --opt-level"
    [calibrate]="--data -o --nodes --variance --blend --json --threads"
    [standardize]="--data --mode --per-channel --input -o --json"
    [stats]="--data --json --html --threads"
    [compare]="--input --reference --json --ratio --min-rel --threads"
)
for cmd in run test bench info ops optimize calibrate standardize stats compare; do
    run "help_$cmd" help "$cmd"
    h1=$rc
    run "dashhelp_$cmd" "$cmd" --help
    if [ $h1 -ne 0 ] || [ $rc -ne 0 ]; then
        fail "onnorm help $cmd / $cmd --help exited $h1 / $rc"; show "help_$cmd"
        continue
    fi
    if ! cmp -s "$TMP/help_$cmd.out" "$TMP/dashhelp_$cmd.out"; then
        fail "onnorm help $cmd and onnorm $cmd --help differ"
    fi
    missing=""
    for o in ${OPTS[$cmd]} --help --version; do
        grep -Eq -- "^  (-h, )?$o( |$)" "$TMP/help_$cmd.out" || missing="$missing $o"
    done
    # Exit statuses: 0, 1 (2 for usage) everywhere, 3 where a model is loaded.
    codes="0 1 2"
    [ "$cmd" = test ] || [ "$cmd" = ops ] || codes="0 1 2 3"
    for c in $codes; do
        grep -Eq "^  $c  " "$TMP/help_$cmd.out" || missing="$missing exit-$c"
    done
    if [ -n "$missing" ]; then
        fail "onnorm help $cmd does not describe:$missing"; show "help_$cmd"
    else
        pass "onnorm help $cmd = $cmd --help, describes every option and the exit statuses"
    fi
done
expect help_unknown 2 "unknown command" help frobnicate
# info used to open a file named --help.
expect info_help 0 "^usage: onnorm info" info --help

# ---- missing and out-of-range values name the option -------------------------------------
expect miss_threads 2 "--threads needs a value" run "$M" --threads
expect miss_input 2 "--input needs a value" run "$M" --input
expect miss_followed 2 "--threads needs a value" run "$M" --threads --repeat 2
expect miss_rtol 2 "--rtol needs a value" test "$GN" --rtol
expect range_threads_run 2 "--threads must be .* got '0'" run "$M" --threads 0
expect range_threads_test 2 "--threads must be .* got '0'" test "$GN" --threads 0
expect range_threads_bench 2 "--threads must be .* got '0'" bench "$M" --threads 0
expect range_repeat 2 "--repeat must be .* got '0'" run "$M" --repeat 0
expect range_opt_run 2 "--opt-level must be .* got '7'" run "$M" --opt-level 7
expect range_opt_bench 2 "--opt-level must be .* got '7'" bench "$M" --opt-level 7
expect range_iters 2 "--iters must be .* got '0'" bench "$M" --iters 0
expect range_rtol 2 "--rtol must be .* got '-1'" test "$GN" --rtol -1
expect notnum 2 "--repeat must be .* got 'x'" run "$M" --repeat x
expect badpair 2 "--input takes NAME=FILE.pb" run "$M" --input "$IN"
expect unknown_opt 2 "unknown option '--frob'" run "$M" --frob
expect flag_value 2 "--profile takes no value" run "$M" --profile=yes
expect extra_pos 2 "unexpected argument" info "$M" "$M"
expect optimize_noout 2 "-o OUT.onnx is required" optimize "$M"
# calibrate and standardize (numbers are checked in tests/calib against NumPy).
expect calibrate_ok 0 "calibrated 2 BatchNormalization node\(s\) on 1 data item" calibrate "$M" \
    --data "$DEFAULT" -o "$TMP/cal.onnx"
expect calibrate_nodata 2 "--data PATH is required" calibrate "$M" -o "$TMP/cal.onnx"
expect calibrate_noout 2 "-o OUT.onnx is required" calibrate "$M" --data "$DEFAULT"
expect calibrate_blend 2 "--blend must be .* got '2'" calibrate "$M" --data "$DEFAULT" \
    -o "$TMP/cal.onnx" --blend 2
expect calibrate_missing 1 "no such file or folder" calibrate "$M" --data "$TMP/nowhere" \
    -o "$TMP/cal.onnx"
expect standardize_ok 0 "fitted zscore on input 'x'" standardize "$M" --data "$DEFAULT" \
    --mode zscore --per-channel -o "$TMP/std.onnx"
expect standardize_nomode 2 "--mode zscore\|minmax is required" standardize "$M" \
    --data "$DEFAULT" -o "$TMP/std.onnx"
expect standardize_run 0 "median" run "$TMP/std.onnx" --repeat 1 --warmup 0
# --opt=value as well as --opt value.
expect eq_form 0 "on 1 thread .*median" run "$M" --repeat=2 --threads=1 --warmup=0 --opt-level=0 \
    "--input=x=$IN"
expect eq_form_test 0 "passed, 0 failed, 0 skipped" test "$GN" --rtol=1e-3 --threads=1

# ---- models and data for the checks below (python3-onnx and NumPy) ------------------------
/usr/bin/python3 - "$TMP/gen" <<'PY'
import os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

root = sys.argv[1]

def case(name, nodes, inputs, outputs, feeds, expected, opset=17, domains=()):
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    g = helper.make_graph(nodes, name, inputs, outputs)
    imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(x, 1) for x in domains]
    m = helper.make_model(g, opset_imports=imports)
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "model.onnx"))
    for i, a in enumerate(feeds):
        t = (numpy_helper.from_array(a, "in%d" % i) if not isinstance(a, TensorProto) else a)
        open(os.path.join(d, "test_data_set_0", "input_%d.pb" % i), "wb").write(t.SerializeToString())
    for i, a in enumerate(expected):
        t = (numpy_helper.from_array(a, "out%d" % i) if not isinstance(a, TensorProto) else a)
        open(os.path.join(d, "test_data_set_0", "output_%d.pb" % i), "wb").write(t.SerializeToString())

f32 = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
# An op no build of onnorm has: SKIP.
case("unsup", [helper.make_node("NoSuchOp", ["x"], ["y"], domain="com.example")],
     [f32("x", [2])], [f32("y", [2])], [np.ones(2, np.float32)], [np.ones(2, np.float32)],
     domains=["com.example"])
# A string input: SKIP.
s = helper.make_tensor_value_info
case("strin", [helper.make_node("Identity", ["x"], ["y"])],
     [s("x", TensorProto.STRING, [1])], [s("y", TensorProto.STRING, [1])],
     [helper.make_tensor("x", TensorProto.STRING, [1], [b"a"])],
     [helper.make_tensor("y", TensorProto.STRING, [1], [b"a"])])
# Large and tiny values: the element near zero is off by 5e-3, within
# 1e-5 * max|exp| = 1e-2 but not within 1e-7 + 1e-3 * |exp|.
x = np.array([1000.0, 0.001], np.float32)
case("scaled", [helper.make_node("Identity", ["x"], ["y"])], [f32("x", [2])], [f32("y", [2])],
     [x], [np.array([1000.0, 0.006], np.float32)])
# NaN and Inf pass through Identity.
case("naninf", [helper.make_node("Identity", ["x"], ["y"])], [f32("x", [4])], [f32("y", [4])],
     [np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)],
     [np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)])
# int64 token ids: bench cannot fill them, --input gives them.
i64 = helper.make_tensor_value_info
case("ids", [helper.make_node("Identity", ["ids"], ["y"])],
     [i64("ids", TensorProto.INT64, [2, 3])], [i64("y", TensorProto.INT64, [2, 3])],
     [np.arange(6, dtype=np.int64).reshape(2, 3)], [np.arange(6, dtype=np.int64).reshape(2, 3)])
PY
G="$TMP/gen"

# ---- test: SKIP apart from FAIL, --strict --------------------------------------------------
expect skip_unsup 0 "^SKIP .*unsup" test "$G/unsup"
expect skip_str 0 "^SKIP .*strin" test "$G/strin"
expect skip_summary 0 "^1 passed, 0 failed, 2 skipped$" test "$G/unsup" "$G/strin" "$DEFAULT"
expect skip_reasons 0 "unsupported op.*NoSuchOp" test "$G/unsup" "$DEFAULT"
expect skip_strict 1 "^1 passed, 0 failed, 1 skipped$" test --strict "$G/unsup" "$DEFAULT"
run skip_env test "$G/unsup"
rc_plain=$rc
ONNORM_TEST_STRICT=1 "$ONNORM" test "$G/unsup" >/dev/null 2>&1 && rc=0 || rc=$?
if [ $rc_plain -ne 0 ] || [ $rc -ne 1 ]; then
    fail "ONNORM_TEST_STRICT=1 does not make a skip fail ($rc_plain / $rc)"
else
    pass "ONNORM_TEST_STRICT=1 makes a skip fail like --strict"
fi
expect skip_and_fail 1 "^0 passed, 1 failed, 1 skipped$" test "$G/unsup" "$TMP/corrupt"
expect fail_reasons 1 "failures by reason:" test "$TMP/corrupt"
expect fail_reason_values 1 "values differ beyond the tolerance" test "$TMP/corrupt"
# A run of an unsupported model exits 3; info prints it and exits 3 too.
expect run_unsup 3 "NoSuchOp" run "$G/unsup/model.onnx"
expect info_unsup 3 "UNSUPPORTED" info "$G/unsup/model.onnx"
expect bench_unsup 3 "NoSuchOp" bench "$G/unsup/model.onnx"

# ---- test: tolerance ---------------------------------------------------------------------
expect tol_default 0 "^1 passed, 0 failed" test "$G/scaled"
expect tol_noscale 1 "^0 passed, 1 failed" test "$G/scaled" --atol-scale 0
expect tol_atol 1 "^0 passed, 1 failed" test "$G/scaled" --atol 1e-7
expect tol_both 0 "^1 passed, 0 failed" test "$G/scaled" --atol 1e-7 --atol-scale 1e-5
expect tol_unet 0 "^1 passed, 0 failed, 0 skipped$" test "$SRC/testdata/torch/unet_groupnorm_opset17"
expect naninf_test 0 "^1 passed, 0 failed" test "$G/naninf" --rtol 0 --atol 0

# ---- test: --filter, --threads, time per case, --json, --junit, empty walks ------------------
n_gn=$(find "$GN" -name model.onnx | wc -l)
first_gn=$(basename "$(find "$GN" -mindepth 1 -maxdepth 1 -type d | sort | head -n 1)")
expect filter_one 0 "^1 passed, 0 failed, 0 skipped$" test "$GN" --filter "^${first_gn}\$"
expect filter_none 1 "no test folder matching --filter" test "$GN" --filter "^no-such-case$"
expect filter_bad 2 "--filter" test "$GN" --filter "("
expect threads_test 0 "^threads: 1$" test "$GN" --threads 1
expect time_per_case 0 "^PASS .*\(1 set, [0-9.]+ ms\)" test "$DEFAULT"
run reports test "$G/unsup" "$TMP/corrupt" "$DEFAULT" --json "$TMP/r.json" --junit "$TMP/r.xml"
if [ $rc -ne 1 ] || ! /usr/bin/python3 - "$TMP/r.json" "$TMP/r.xml" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
assert (d["passed"], d["failed"], d["skipped"]) == (1, 1, 1), d
st = sorted(c["status"] for c in d["cases"])
assert st == ["fail", "pass", "skip"], st
for c in d["cases"]:
    assert c["time_ms"] >= 0 and c["path"] and "reason" in c
    if c["status"] == "fail":
        assert c["reason"] == "values differ beyond the tolerance", c
root = ET.parse(sys.argv[2]).getroot()
suite = root.find("testsuite")
assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
cases = suite.findall("testcase")
assert len(cases) == 3
assert sum(c.find("failure") is not None for c in cases) == 1
assert sum(c.find("skipped") is not None for c in cases) == 1
PY
then
    fail "onnorm test --json/--junit: wrong exit status $rc or reports"; show reports
else
    pass "test --json and --junit: 1 pass, 1 fail, 1 skip with reasons and times"
fi
expect json_unwritable 1 "cannot write" test "$DEFAULT" --json "$TMP/no/such/dir/r.json"
mkdir -p "$TMP/nocase/a/b" "$TMP/nocase/c"
expect walk_none 1 "holds no test folder" test "$TMP/nocase"
expect walk_missing 1 "No such file or directory" test "$TMP/does-not-exist"
expect walk_file 1 "not a folder" test "$M"

# ---- run: executed nodes, --opt-level, warm-up, NaN/Inf, --output-dir ------------------------
T="$SRC/testdata/torch/transformer_opset14/model.onnx"
run exec0 run "$T" --repeat 1 --opt-level 0
n0=$(sed -n 's/^executes \([0-9]*\) nodes after optimization (opt level 0):$/\1/p' "$TMP/exec0.out")
run exec1 run "$T" --repeat 1 --opt-level 1
n1=$(sed -n 's/^executes \([0-9]*\) nodes after optimization (opt level 1):$/\1/p' "$TMP/exec1.out")
listed=$(grep -Ec '^  \[[0-9]+\] ' "$TMP/exec1.out" || true)
if [ -z "$n0" ] || [ -z "$n1" ] || [ "$n1" -ge "$n0" ] || [ "$listed" -ne "$n1" ]; then
    fail "run --opt-level 0/1 does not list fewer executed nodes after optimization ($n0 / $n1, listed $listed)"
    show exec1
elif ! grep -q "LayerNormalization" "$TMP/exec1.out" || grep -q "LayerNormalization" "$TMP/exec0.out"; then
    fail "run: the fused LayerNormalization is not among the executed nodes at level 1 only"
else
    pass "run lists the executed nodes: $n0 at --opt-level 0, $n1 (with the fused LayerNormalization) at 1"
fi
run warm run "$M" --repeat 2 --warmup 3
if [ $rc -ne 0 ] || ! grep -Eq "^warm-up: 3 runs" "$TMP/warm.out" ||
   [ "$(grep -n '^warm-up' "$TMP/warm.out" | cut -d: -f1)" -gt "$(grep -n '^run:' "$TMP/warm.out" | cut -d: -f1)" ]; then
    fail "run --warmup 3 does not warm up before the timed runs"; show warm
else
    pass "run warms up before timing"
fi
expect naninf_run 0 "y: float32 \[4\] min=1 max=1 mean=1 nan=1 inf=2" run "$G/naninf/model.onnx" \
    --input "x=$G/naninf/test_data_set_0/input_0.pb" --repeat 1
expect outdir_new 0 "written to $TMP/made/deep/y.pb" run "$M" --repeat 1 --output-dir "$TMP/made/deep"
[ -s "$TMP/made/deep/y.pb" ] || fail "run --output-dir did not create the folder and write y.pb"
: >"$TMP/plainfile"
run outdir_file run "$M" --repeat 1 --output-dir "$TMP/plainfile"
if [ $rc -ne 1 ] || ! grep -q "not a directory" "$TMP/outdir_file.err" || grep -q "^model" "$TMP/outdir_file.out"; then
    fail "run --output-dir on a file does not fail before the run"; show outdir_file
else
    pass "run --output-dir on a file fails before loading: $(head -n 1 "$TMP/outdir_file.err")"
fi

# ---- info, bench --input, I/O errors, unknown --input names ----------------------------------
expect info_outputs 0 "^  outputs: y:float32\[2,8,16,16\]$" info "$M"
expect bench_noids 1 "must be given with --input" bench "$G/ids/model.onnx" --iters 2
expect bench_ids 0 '"iters": 2' bench "$G/ids/model.onnx" --iters 2 \
    --input "ids=$G/ids/test_data_set_0/input_0.pb"
expect bench_badname 1 "no model has that input; its inputs are: ids" bench "$G/ids/model.onnx" \
    --input "idz=$G/ids/test_data_set_0/input_0.pb"
expect run_badname 1 "its inputs are: x" run "$M" --input "nosuch=$IN"
expect io_dir_model 1 "is a directory" run "$DEFAULT"
expect io_dir_info 1 "is a directory" info "$DEFAULT"
expect io_dir_input 1 "is a directory" run "$M" --input "x=$DEFAULT"
expect io_missing 1 "No such file or directory" run "$TMP/nothere.onnx"
expect io_missing_input 1 "No such file or directory" bench "$M" --input "x=$TMP/nothere.pb"
expect io_optimize_dir 1 "is a directory" optimize "$M" -o "$TMP"
expect io_optimize_nodir 1 "No such file or directory" optimize "$M" -o "$TMP/no/such/out.onnx"

if [ $failures -ne 0 ]; then
    echo "test_cli.sh: $failures check(s) failed" >&2
    exit 1
fi
echo "test_cli.sh: all checks passed"
exit 0
