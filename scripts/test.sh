#!/usr/bin/env bash
# Builds and runs every test: unit (no privileges), live (root + /dev/kvm + BPF on this host,
# skipped with the reason elsewhere) and nested (real SVM exits in the QEMU test bed, minutes).
# LABELS=unit|live|nested narrows it, e.g. LABELS=unit scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then scripts/install-deps.sh; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVMSCOPE_WERROR=ON
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure ${LABELS:+-L "$LABELS"}
