#!/usr/bin/env bash
# The style checks CI runs after the tests (.ci/run), also handy before a commit:
#   scripts/check-style.sh [BUILD_DIR]     (default build; needs its compile_commands.json)
# 1. clang-format (.clang-format) on the C/C++ files changed since the merge base with
#    $KVMSCOPE_BASE (default main; every file of src/ tests/ bench/ fuzz/ where there is no such
#    ref): older files are not all formatted yet, so only what a change touches must be.
# 2. clang-tidy (.clang-tidy) on every .cpp of src/, KVMSCOPE_TIDY_JOBS (default nproc) at a time.
#    Measured: 4.5 CPU-minutes for src/ (about 110 files), so about 2.5 minutes on CI's 2 cores;
#    KVMSCOPE_TIDY=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
fail=0

base=${KVMSCOPE_BASE:-main}
if mb=$(git merge-base HEAD "$base" 2>/dev/null); then
  mapfile -t files < <(git diff --name-only --diff-filter=d "$mb" -- \
    'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h' 'fuzz/*.cpp')
  # The working tree's own changes too, when run before a commit.
  mapfile -t -O "${#files[@]}" files < <(git diff --name-only --diff-filter=d HEAD -- \
    'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h' 'fuzz/*.cpp')
  what="changed since $(git rev-parse --short "$mb") ($base)"
else
  mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' \
    'bench/*.cpp' 'bench/*.h' 'fuzz/*.cpp')
  what="all (no $base to compare with)"
fi
mapfile -t files < <(printf '%s\n' "${files[@]}" | sed '/^$/d' | sort -u)
echo "clang-format: ${#files[@]} file(s), $what"
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
