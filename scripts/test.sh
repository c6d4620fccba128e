#!/usr/bin/env bash
# Builds and runs every test: unit (no privileges), live (root + /dev/kvm + BPF on this host,
# skipped with the reason elsewhere) and nested (real SVM exits in the QEMU test bed, minutes).
# LABELS=unit|live|nested narrows it, e.g. LABELS=unit scripts/test.sh. Without LABELS, the
# tests labelled nested-extra (a second VMX bed boot, tests/CMakeLists.txt says why) are left out;
# LABELS=nested-extra runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then scripts/install-deps.sh; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVMSCOPE_WERROR=ON
cmake --build build -j"$(nproc)"
if [ -n "${LABELS:-}" ]; then
  ctest --test-dir build --output-on-failure -L "$LABELS"
else
  ctest --test-dir build --output-on-failure -LE nested-extra
fi
