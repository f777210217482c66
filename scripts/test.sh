#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs the whole
# suite (cmocka unit tests, CLI checks, ONNX conformance folders) with ctest.
#
# Opt-in extra stages (issue 15), after the suite passes:
#   ONNORM_CI_ASAN=1  the whole suite again in an ASan+UBSan build
#                     (build-asan/, -DONNORM_SANITIZE=address)
#   ONNORM_CI_FUZZ=1  60 s of libFuzzer per fuzz target
#                     (tests/fuzz/campaign.sh --ci; needs clang-14 and
#                     libclang-rt-14-dev, skipped with a note without them)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DONNORM_WERROR=ON -DONNORM_TESTS=ON
(cd build && ctest --output-on-failure --timeout 600)
if [ "${ONNORM_CI_ASAN:-0}" = 1 ]; then
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DONNORM_SANITIZE=address \
        -DONNORM_WERROR=ON >/dev/null
    cmake --build build-asan -j"$(nproc)"
    (cd build-asan && ctest -j2 --output-on-failure --timeout 1800)
fi
if [ "${ONNORM_CI_FUZZ:-0}" = 1 ]; then
    if command -v clang-14 >/dev/null &&
        ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
        tests/fuzz/campaign.sh --ci
    else
        echo "test.sh: ONNORM_CI_FUZZ=1 but clang-14 / libclang-rt-14-dev are missing; fuzzing skipped"
    fi
fi
