#!/usr/bin/env bash
# Builds a recording reader's libFuzzer target with clang in its own build directory and runs
# it for a bounded time. Usage: fuzz/run-fuzz.sh [seconds] [target]   (default 60 s,
# store_reader: kvmscope's own format; perfdata_reader: perf.data)
# Exit status: 0 nothing found, non-zero a crash/leak/timeout (reproducer under
# build-fuzz/fuzz/crashes/), 77 skipped: clang++ or its fuzzer runtime is missing.
# The corpus grows in build-fuzz/fuzz/corpus (corpus-perfdata) and is reused by later runs.
set -euo pipefail
secs=${1:-60}
target=${2:-store_reader}
case $target in
store_reader | perfdata_reader) ;;
*)
  echo "fuzz: unknown target $target (store_reader, perfdata_reader)" >&2
  exit 2
  ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KVMSCOPE_FUZZ_BUILD:-$root/build-fuzz}
cxx=${KVMSCOPE_FUZZ_CXX:-clang++}

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz: skipped: $cxx not found (apt-get install clang)"
  exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" 2>"$probe/log"; then
  echo "fuzz: skipped: $cxx cannot link -fsanitize=fuzzer (install libclang-rt-dev for it):"
  sed 's/^/  /' "$probe/log" | head -5
  exit 77
fi

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DKVMSCOPE_FUZZ=ON \
  -DKVMSCOPE_TESTS=OFF -DKVMSCOPE_BENCH=OFF -DKVMSCOPE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$probe/cmake.log" ||
  { cat "$probe/cmake.log"; exit 1; }
cmake --build "$build" --target "${target}_fuzz" -j"$(nproc)"

out=$build/fuzz
if [ "$target" = perfdata_reader ]; then
  # Seeds: the real perf.data files (up to 1 MiB: a whole file, its features at the end).
  mkdir -p "$out/corpus-perfdata" "$out/crashes-perfdata"
  exec "$out/perfdata_reader_fuzz" -max_total_time="$secs" -max_len=1048576 -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
    -artifact_prefix="$out/crashes-perfdata/" "$out/corpus-perfdata" "$root/tests/fixtures/perfdata"
fi
mkdir -p "$out/corpus" "$out/crashes"
# -malloc_limit_mb: the reader's biggest buffer is under 9 MiB whatever the input says, so any
# allocation past 64 MiB is a bug, reported as one.
exec "$out/store_reader_fuzz" -max_total_time="$secs" -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -malloc_limit_mb=64 -print_final_stats=1 \
  -artifact_prefix="$out/crashes/" "$out/corpus" "$out/seeds"
