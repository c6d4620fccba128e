#!/usr/bin/env bash
# Fresh Debian machine -> a built kvmscope and one real run on the built-in test guest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (sudo): installing packages and loading BPF need it" >&2; exit 1; }
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
echo
echo "+ build/kvmscope stat -- build/kvmscope guest --cpuid 700 --io 5000 --hlt 300"
build/kvmscope stat -- build/kvmscope guest --cpuid 700 --io 5000 --hlt 300
