#!/bin/bash
# Coverage-guided fuzzing of onnorm with libFuzzer (clang 14, ASan + UBSan).
#
#   campaign.sh [--seconds S] [--runs N] [--target fuzz_model|fuzz_tensor|fuzz_npy]
#               [--jobs J] [--fork] [--timeout S] [--build DIR] [--work DIR] [--ci]
#
# Builds the fuzz targets when needed (CC=clang-14, -DONNORM_FUZZ=ON, in
# --build, default build-fuzz/ beside build/), writes the seed corpus
# (make_corpus.sh) and runs each target in turn, one process, at nice 19:
# for S seconds (default 600) or N executions (--runs, e.g. 10000000 for the
# issue's campaign), growing the corpus in --work (default
# build-fuzz/campaign/; kept between runs so that long campaigns resume).
# Every target gets the protobuf dictionary (onnx.dict), inputs up to 64 KiB,
# a 10 s timeout per input, a 2 GiB RSS limit and a 256 MiB malloc limit:
# the targets set 8 MiB of folding and a 32 MiB session cap, so any single
# allocation past 256 MiB is a limit that did not hold, and libFuzzer reports
# it. Findings land in WORK/artifacts/; add each to tests/malformed/ (file +
# a line in tests/malformed/manifest.tsv) once fixed.
#
# --jobs J: J libFuzzer processes at once (-jobs=J -workers=J), sharing the
# corpus; --seconds is then each one's time and --runs the total, split
# evenly; executions are summed over their logs (fuzz-K.log in
# WORK/jobs-KIND/). A crash, a sanitizer report, a leak, an allocation past
# -malloc_limit_mb or an input running past the timeout (--timeout S,
# default 10) is a finding and stops that process.
#
# --fork: libFuzzer's fork mode instead (-fork=J): findings stop the run
# too, except inputs past the timeout, which are written to the artifacts
# and counted (the oom/timeout/crash line of the log) without stopping it,
# for campaigns that meet models asking for much legitimate work (a 4-D
# cubic Resize of 1.4 million outputs, 355 million multiply-adds, takes
# 100 s under ASan). It runs about 40% fewer inputs a second here (each
# job is a new process); executions are read from its last status line.
#
# The model target runs about 1 000 inputs a second per core here, so 10
# million take about 85 minutes on two cores (--jobs 2).
#
# --ci: 60 s per target, and exit 1 on any finding (what CI runs when clang
# is present; about 2.5 minutes with the build already there).
#
# Needs clang-14 and libclang-rt-14-dev (apt-get install clang-14
# libclang-rt-14-dev); the regular build and test suite do not.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
seconds=600 runs=0 jobs=1 fork=0 timeout=10 targets="fuzz_model fuzz_tensor fuzz_npy" build="$ROOT/build-fuzz" work="" ci=0
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --target) targets=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --fork) fork=1; shift ;;
    --timeout) timeout=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --ci) ci=1; seconds=60; shift ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
    esac
done
work=${work:-$build/campaign}
CC=${CC:-clang-14}
command -v "$CC" >/dev/null || { echo "campaign.sh: $CC not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=$CC cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release -DONNORM_FUZZ=ON >/dev/null
fi
nice -n 19 cmake --build "$build" -j2 --target $targets >/dev/null
build=$(cd "$build" && pwd) # the targets run from their jobs folders
mkdir -p "$work" && work=$(cd "$work" && pwd)
mkdir -p "$work/seeds" "$work/artifacts"
[ -d "$work/seeds/model" ] || "$HERE/make_corpus.sh" "$work/seeds" >/dev/null
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
found=0
for t in $targets; do
    kind=${t#fuzz_}
    mkdir -p "$work/corpus/$kind"
    limit=(-max_total_time="$seconds")
    if [ $fork = 1 ]; then
        [ "$runs" = 0 ] || limit=(-runs="$runs")
        limit+=(-fork="$jobs" -ignore_crashes=0 -ignore_ooms=0 -ignore_timeouts=1)
    else
        [ "$runs" = 0 ] || limit=(-runs="$((runs / jobs))")
        [ "$jobs" = 1 ] || limit+=(-jobs="$jobs" -workers="$jobs")
    fi
    log="$work/$t.log"
    echo "== $t: ${limit[*]} -timeout=$timeout, log $log"
    start=$(date +%s)
    mkdir -p "$work/jobs-$kind"
    set +e
    (cd "$work/jobs-$kind" && rm -f fuzz-*.log &&
        nice -n 19 "$build/tests/$t" "${limit[@]}" -dict="$HERE/onnx.dict" -max_len=65536 \
            -timeout="$timeout" -rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1 \
            -print_pcs=0 -artifact_prefix="$work/artifacts/$t-" "$work/corpus/$kind" \
            "$work/seeds/$kind") >"$log" 2>&1
    rc=$?
    set -e
    if [ $fork = 1 ]; then
        # "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c time: .."
        last=$(grep -E '^#[0-9]+: cov' "$log" | tail -1)
        execs=$(echo "$last" | sed -E 's/^#([0-9]+):.*/\1/')
    else
        # One process logs to $log; -jobs sends each job's log to fuzz-K.log
        # (and libFuzzer echoes those into $log too: count them once).
        src=("$log")
        [ "$jobs" = 1 ] || src=("$work/jobs-$kind"/fuzz-*.log)
        execs=$(cat "${src[@]}" 2>/dev/null | grep -o 'stat::number_of_executed_units: [0-9]*' |
            awk '{s += $2} END {print s}')
        last=$(cat "${src[@]}" 2>/dev/null | grep -E '^#[0-9]+' | tail -1)
    fi
    echo "   exit $rc after $(($(date +%s) - start)) s; executions ${execs:-?}; last: ${last:-none}"
    if [ $rc != 0 ]; then
        found=1
        grep -E "ERROR|SUMMARY|runtime error|out-of-memory|Test unit written" "$log" | head -8 | sed 's/^/   /'
    fi
done
[ $ci = 0 ] || [ $found = 0 ]
