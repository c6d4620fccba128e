#!/usr/bin/env bash
# Drives contrib/completion/kvmscope.bash as bash does on Tab (COMP_WORDS, COMP_CWORD, then
# _kvmscope) against the real binary, and compares COMPREPLY with what it must be: commands,
# options per command, option values, VM PIDs from a fake /proc, recordings and directories.
# Each case runs twice: with bash-completion's helpers loaded (_filedir, _command_offset), as on
# an installed system, and without them (the script's own fallbacks).
# Usage: completion_test.sh KVMSCOPE_BINARY [COMPLETION_SCRIPT]
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
script=${2:-$here/../../contrib/completion/kvmscope.bash}
bash_completion=/usr/share/bash-completion/bash_completion

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The binary as "kvmscope" on PATH, as an installed one is.
mkdir -p "$work/bin" "$work/files/sub" "$work/proc"
ln -s "$bin" "$work/bin/kvmscope"
touch "$work/files/boot.kvms" "$work/files/trace.dat" "$work/files/perf.data" "$work/files/notes.txt"
# A fake /proc: 4242 holds a KVM VM fd, 5151 has a QEMU-style vCPU thread (fds unreadable),
# 6000 is neither.
mkdir -p "$work/proc/4242/fd" "$work/proc/4242/task/4242" "$work/proc/5151/fd" \
  "$work/proc/5151/task/5160" "$work/proc/6000/fd" "$work/proc/6000/task/6000"
ln -s /dev/null "$work/proc/4242/fd/0"
ln -s anon_inode:kvm-vm "$work/proc/4242/fd/11"
ln -s anon_inode:kvm-vcpu:0 "$work/proc/6000/fd/12"
echo qemu-system-x86 >"$work/proc/4242/task/4242/comm"
echo "CPU 0/KVM" >"$work/proc/5151/task/5160/comm"
echo "CPU 0/KVMX" >"$work/proc/6000/task/6000/comm"

failures=0
# complete MODE "EXPECTED (one per line, sorted)" WORD... : the last WORD is the one completed.
complete_case() {
  local mode=$1 expected=$2
  shift 2
  local got
  got=$(cd "$work/files" && PATH="$work/bin:$PATH" _KVMSCOPE_PROC="$work/proc" \
    BC="$([ "$mode" = bash-completion ] && echo "$bash_completion")" SCRIPT="$script" \
    bash -c '
      [ -n "$BC" ] && . "$BC"
      . "$SCRIPT"
      COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
      _kvmscope 2>/dev/null
      printf "%s\n" "${COMPREPLY[@]}" | sed "/^$/d" | sort -u' _ "$@")
  if [ "$got" != "$expected" ]; then
    echo "FAIL ($mode) '$*': expected [$(echo $expected)], got [$(echo $got)]"
    failures=$((failures + 1))
  else
    echo "ok   ($mode) '$*' -> [$(echo $got)]"
  fi
}

modes=(plain)
if [ -r "$bash_completion" ]; then modes+=(bash-completion); else echo "note: no $bash_completion: only the fallbacks are tested"; fi
commands=$("$bin" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' | sort)
for m in "${modes[@]}"; do
  complete_case "$m" "$(printf '%s\n' $commands --help --version | sort)" kvmscope ""
  complete_case "$m" "stat" kvmscope st
  complete_case "$m" $'record\nreport' kvmscope re
  complete_case "$m" $'--every\n--every-level' kvmscope stat --ev
  complete_case "$m" $'--per-vcpu\n--per-vm' kvmscope report boot.kvms --per
  complete_case "$m" $'--per-vcpu\n--per-vm\n--pid' kvmscope stat -a --json --p
  complete_case "$m" $'hardware\nvmm' kvmscope stat --every-level ""
  complete_case "$m" $'port,mmio\nport,msr' kvmscope stat --by port,m
  complete_case "$m" $'port,function' kvmscope report x.kvms --by port,f
  complete_case "$m" "count" kvmscope top --sort c
  complete_case "$m" $'4242\n5151' kvmscope stat -p ""
  complete_case "$m" $'4242,5151' kvmscope record -o x.kvms --pid 4242,5
  complete_case "$m" "" kvmscope stat --duration ""
  complete_case "$m" "" kvmscope serve --listen ""
  complete_case "$m" $'boot.kvms\nperf.data\nsub\ntrace.dat' kvmscope report ""
  complete_case "$m" $'boot.kvms\nnotes.txt\nperf.data\nsub\ntrace.dat' kvmscope report boot.kvms --html ""
  complete_case "$m" "sub" kvmscope report boot.kvms --csv ""
  complete_case "$m" "" kvmscope stat -a ""
  complete_case "$m" "kvmscope" kvmscope stat -- kvmsc
done
# With bash-completion, the traced command is completed by its own completion: here kvmscope's.
if [ -r "$bash_completion" ]; then
  complete_case bash-completion "guest" kvmscope stat -p 1 -- kvmscope gu
fi
# zsh's _kvmscope, with zsh's completion builtins replaced by ones that print what they were given
# (zsh itself filters by the typed prefix).
zsh_script=$(dirname "$script")/_kvmscope
if command -v zsh >/dev/null && [ -r "$zsh_script" ]; then
  zsh_case() { # zsh_case EXPECTED WORD...
    local expected=$1 got
    shift
    got=$(cd "$work/files" && PATH="$work/bin:$PATH" _KVMSCOPE_PROC="$work/proc" SCRIPT="$zsh_script" zsh -f -c '
      compadd() { print -r -- "compadd $*" }
      _describe() { print -rl -- ${(P)4} }
      _files() { print -r -- "_files $*" }
      _sequence() { shift; print -r -- "_sequence $*" }
      _message() { print -r -- "_message $*" }
      _normal() { print -r -- "_normal $words" }
      source $SCRIPT
      words=("$@"); CURRENT=$#; PREFIX=$words[CURRENT]
      _kvmscope' _ "$@" 2>&1)
    if [ "$got" != "$expected" ]; then
      echo "FAIL (zsh) '$*': expected [$expected], got [$got]"
      failures=$((failures + 1))
    else
      echo "ok   (zsh) '$*' -> [$(echo $got)]"
    fi
  }
  zsh_case "$("$bin" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { n = $1; $1 = ""; sub(/^ +/, ""); print n ":" $0 } on && /^$/ { exit }')
compadd -- --help --version" kvmscope ""
  zsh_case "compadd -- $("$bin" top --help | grep -oE '^ +-[a-z], --[a-z-]+|^ +--[a-z-]+' | tr -d ',' | xargs) --" kvmscope top -
  zsh_case "compadd - hardware vmm" kvmscope stat --every-level ""
  zsh_case "_sequence - port mmio msr cpuid hypercall all function" kvmscope stat --by ""
  zsh_case "_sequence - port mmio msr cpuid hypercall all function" kvmscope report x.kvms --by ""
  zsh_case "_sequence - 4242 5151" kvmscope stat -p ""
  zsh_case "_files -g *.(kvms|dat|data)(-.)" kvmscope report ""
  zsh_case "_files -/" kvmscope report x.kvms --csv ""
  zsh_case "_message -e values T" kvmscope stat --duration ""
  zsh_case "_normal qemu-system-x86_64 -m" kvmscope stat -a -- qemu-system-x86_64 -m
else
  echo "note: no zsh: _kvmscope is not tested"
fi

# The PID list is the real one too: at least nothing but numbers.
pids=$(. "$script" && _kvmscope_vm_pids)
if ! grep -qv '^[0-9]*$' <<<"$pids"; then
  echo "ok   real /proc: VM PIDs [$(echo $pids)]"
else
  echo "FAIL real /proc: not a list of PIDs: [$pids]"
  failures=$((failures + 1))
fi
[ "$failures" = 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
