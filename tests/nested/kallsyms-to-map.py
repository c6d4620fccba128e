#!/usr/bin/env python3
"""kallsyms-to-map.py KALLSYMS: a /proc/kallsyms (code symbols of the kernel proper, as l1-boot.sh
saves L1's) printed as that kernel's System.map: every address less the kernel's KASLR offset
(its _text minus the x86-64 link address 0xffffffff81000000). Exit 1 without a _text line."""

import sys

LINK_TEXT = 0xFFFFFFFF81000000


def main(path):
    rows = []
    text = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            addr = int(parts[0], 16)
            rows.append((addr, parts[1], parts[2]))
            if parts[2] == "_text":
                text = addr
    if text is None:
        print(f"{path}: no _text line", file=sys.stderr)
        return 1
    offset = text - LINK_TEXT
    for addr, kind, name in rows:
        print(f"{addr - offset:016x} {kind} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]) if len(sys.argv) == 2 else 2)
