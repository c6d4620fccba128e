#!/usr/bin/env bash
# The style checks CI runs after the tests (.ci/run), also handy before a commit:
#   scripts/check-style.sh [BUILD_DIR]     (default build; needs its compile_commands.json)
# 1. clang-format (.clang-format) on every C/C++ file of src/ tests/ bench/ fuzz/, tracked or new
#    (seconds; a clean clone of main is checked whole, not only what a branch changed).
# 2. clang-tidy (.clang-tidy) on every .cpp of src/, KVMSCOPE_TIDY_JOBS (default nproc) at a time.
#    Measured: 4.5 CPU-minutes for src/ (about 110 files), so about 2.5 minutes on CI's 2 cores;
#    KVMSCOPE_TIDY=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
fail=0

mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' \
  'bench/*.cpp' 'bench/*.h' 'fuzz/*.cpp')
# The working tree's new files too, when run before a commit.
mapfile -t -O "${#files[@]}" files < <(git ls-files --others --exclude-standard \
  'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h' 'fuzz/*.cpp')
echo "clang-format: ${#files[@]} file(s)"
if [ ${#files[@]} -gt 0 ] && ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "clang-format: run clang-format -i on the files above" >&2
  fail=1
fi

if [ "${KVMSCOPE_TIDY:-1}" != 0 ]; then
  [ -f "$build/compile_commands.json" ] ||
    { echo "clang-tidy: no $build/compile_commands.json (configure with cmake first)" >&2; exit 1; }
  # The skeleton header and the embedded assets are generated: build them first.
  cmake --build "$build" --target exits_skel ks_report -j"$(nproc)" >/dev/null
  # The compile commands are GCC's (-Wno-restrict is unknown to clang), and bpftool's skeleton
  # declares C's _Bool, which GCC takes in C++ and clang does not.
  start=$(date +%s)
  if ! git ls-files 'src/*.cpp' |
      xargs -P "${KVMSCOPE_TIDY_JOBS:-$(nproc)}" -n 4 clang-tidy -p "$build" --quiet \
        --extra-arg=-Wno-unknown-warning-option --extra-arg=-D_Bool=bool 2>/dev/null; then
    echo "clang-tidy: findings above (.clang-tidy says which checks are on and why others are off)" >&2
    fail=1
  fi
  echo "clang-tidy: $(($(date +%s) - start)) s"
fi
exit $fail
