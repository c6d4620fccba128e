# bash completion for kvmscope (installed as share/bash-completion/completions/kvmscope).
#
# The commands and each command's options are read from the kvmscope being completed
# (`kvmscope --help`, `kvmscope COMMAND --help`), so they never drift from the binary; what an
# option's value is comes from its placeholder in that help: FILE and LOG complete files, DIR
# directories, PID/PIDS the running VMs, KINDS/L/KEY their fixed words. After `--` the command
# to trace is completed; report's recording (FILE) completes *.kvms, trace.dat (*.dat) and
# perf.data files. tests/completion/completion_test.sh drives it.

# Where the running VMs are looked for; tests point it at a fake /proc.
_KVMSCOPE_PROC=${_KVMSCOPE_PROC:-/proc}

# The commands of `kvmscope --help` ("commands:" then "  NAME  summary" lines).
_kvmscope_commands() {
  "$1" --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'
}

# One line per option a command's --help defines at the start of a line: "OPTION PLACEHOLDER"
# ("-p PIDS", "--pid PIDS", "--json "). "--timeout=SEC" gives "--timeout SEC".
_kvmscope_optspec() {
  "$1" "$2" --help 2>/dev/null | awk '
    /^ +-/ {
      n = split($0, w, " "); k = 0
      for (i = 1; i <= n && w[i] ~ /^--?[A-Za-z]/; i++) {
        o = w[i]; sub(/,$/, "", o); v = ""
        if (o ~ /=/) { v = o; sub(/^[^=]*=/, "", v); sub(/=.*/, "", o) }
        opt[++k] = o; val = v
        if (w[i] !~ /,$/) { i++; break }
      }
      if (val == "" && i <= n && w[i] ~ /^[A-Z]/) val = w[i]
      for (j = 1; j <= k; j++) print opt[j] " " val
    }'
}

# PIDs of the processes that run a KVM VM, as kvmscope tells them: an open "anon_inode:kvm-vm"
# file descriptor (readable for one's own processes, or as root); else, for other users'
# VMs, a thread named like QEMU's vCPU threads ("CPU 0/KVM"), which /proc shows everyone.
_kvmscope_vm_pids() {
  {
    find "$_KVMSCOPE_PROC"/[0-9]*/fd -maxdepth 1 -lname 'anon_inode:kvm-vm' 2>/dev/null
    grep -lxs 'CPU [0-9]*/KVM' "$_KVMSCOPE_PROC"/[0-9]*/task/[0-9]*/comm 2>/dev/null
  } | awk -F/ -v root="$_KVMSCOPE_PROC" '{ p = substr($0, length(root) + 2); sub(/\/.*/, "", p); print p }' |
    sort -un
}

# Completes a comma-separated list: the words of $2 for the last item of $1, the items before kept.
_kvmscope_list() {
  local cur=$1 words=$2 head=
  [[ $cur == *,* ]] && head=${cur%,*},
  local IFS=$'\n'
  COMPREPLY=($(compgen -P "$head" -W "$words" -- "${cur##*,}"))
}

_kvmscope_files() { # $1: an extglob of extensions, or empty for any file
  if declare -F _filedir >/dev/null; then
    _filedir "$1"
  else
    local IFS=$'\n'
    if [[ -n $1 ]]; then
      local f re=${1#"@("}
      re="\.(${re%")"})\$"
      for f in $(compgen -f -- "$cur"); do
        [[ -d $f || $f =~ $re ]] && COMPREPLY+=("$f")
      done
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
  fi
}

_kvmscope() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local bin=${COMP_WORDS[0]} i cmd='' dashdash=0
  COMPREPLY=()
  [[ $bin == */* ]] || bin=$(type -P "$bin") || return 0
  [[ -x $bin ]] || return 0

  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ -z $cmd && ${COMP_WORDS[i]} != -* ]]; then
      cmd=${COMP_WORDS[i]}
    elif [[ -n $cmd && ${COMP_WORDS[i]} == -- ]]; then
      dashdash=$i
      break
    fi
  done

  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$(_kvmscope_commands "$bin") --help --version" -- "$cur"))
    return 0
  fi

  # `kvmscope stat -- COMMAND ARGS`: complete COMMAND and its arguments as their own.
  if ((dashdash)); then
    if declare -F _command_offset >/dev/null; then
      _command_offset $((dashdash + 1))
    elif ((COMP_CWORD == dashdash + 1)); then
      COMPREPLY=($(compgen -c -- "$cur"))
    else
      _kvmscope_files ""
    fi
    return 0
  fi

  local spec placeholder
  spec=$(_kvmscope_optspec "$bin" "$cmd")
  placeholder=$(awk -v o="$prev" '$1 == o { print $2; exit }' <<<"$spec")
  if [[ $prev == -* && -n $placeholder ]]; then
    case $placeholder in
      FILE | LOG) _kvmscope_files "" ;;
      DIR) if declare -F _filedir >/dev/null; then _filedir -d; else COMPREPLY=($(compgen -d -- "$cur")); fi ;;
      PID*) _kvmscope_list "$cur" "$(_kvmscope_vm_pids)" ;;
      KINDS) # report also has "--by function" (its own line in the help: "--by " here)
        local kinds=$'port\nmmio\nmsr\ncpuid\nhypercall\nall'
        grep -qx -- '--by ' <<<"$spec" && kinds+=$'\nfunction'
        _kvmscope_list "$cur" "$kinds" ;;
      L) COMPREPLY=($(compgen -W "hardware vmm" -- "$cur")) ;;
      KEY) COMPREPLY=($(compgen -W "rate count time" -- "$cur")) ;;
    esac
    return 0 # a value nothing can guess (N, T, ADDR:PORT, REGEX): no options offered instead
  fi

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(cut -d' ' -f1 <<<"$spec") --" -- "$cur"))
    return 0
  fi
  # A positional argument: a command whose usage has one right after its name ("kvmscope report
  # FILE") reads recordings.
  if "$bin" "$cmd" --help 2>/dev/null | head -1 | grep -q "kvmscope $cmd [A-Z]"; then
    _kvmscope_files '@(kvms|dat|data)'
  fi
  return 0
}
complete -F _kvmscope kvmscope
