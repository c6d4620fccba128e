#!/bin/sh
# Runs inside L1 as /extra.sh for run-stall-watch.sh (busybox sh): one heartbeat line, then
# silence. ksstall=idle: L1 sleeps, QEMU idles (what a stalled L1 looks like from the host, its
# lost timer interrupt aside). ksstall=busy: L1 spins in a shell loop, QEMU stays busy (a quiet
# L1 that must not be taken for a stall).
# shellcheck source=SCRIPTDIR/l1-lib.sh
. /l1-lib.sh
l1_beat
case "$(arg ksstall)" in
  busy) while :; do :; done ;;
  *) sleep 3600 ;;
esac
