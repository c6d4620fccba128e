#!/usr/bin/env python3
"""Check `kvmscope diff` of two recorded L2 boots (tests/nested/run-boot.sh with KS_BOOT_DIFF):
A = the boot on `-M pc` (boot.kvms), B = the same kernel on another machine type, `-M microvm`
(boot2.kvms), both recorded in one L1 with tracefs hist triggers around each.

Usage: check-boot-diff.py OUTDIR BUILDDIR     one PASS/FAIL line per check; exit 0 only if all passed
       check-boot-diff.py --self-test          made-up outputs, good and broken, through the checks

OUTDIR: what l1-boot.sh wrote (boot.*, boot2.*). BUILDDIR: run-boot.sh's boot-diff.json (the diff
as JSON), boot-diff.txt, boot-diff.rc, and boot-diff-gate.{rc,expect}: a --fail-if run whose exit
status must be what the kernel's own counts say it must be.

The reference: per run, the kernel's hist of kvm:kvm_exit (SVM, by reason) and of
kvm:kvm_userspace_exit. Every reason row of the diff must carry exactly the kernel's count in A
and in B, and every reason the kernel counted must be a row.
"""

import importlib.util
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


cb = _load("check_boot", "check-boot.py")
cr = cb.cr


def rows_of(doc, level):
    """{code: (count_a, count_b)} of the diff's reason rows of one level (KVM_RUN errors negative)."""
    out = {}
    for r in doc.get("rows", []):
        if r.get("kind") != "reason" or r.get("level") != level:
            continue
        code = r.get("code")
        text = str(r.get("code_text", ""))
        if level == "vmm" and text.startswith("-") and text[1:].isdigit():
            code = int(text)
        a, b = out.get(code, (0, 0))
        out[code] = (a + r.get("count_a", 0), b + r.get("count_b", 0))
    return out


def total_of(doc, level):
    for r in doc.get("rows", []):
        if r.get("kind") == "total" and r.get("level") == level:
            return r.get("count_a"), r.get("count_b")
    return None


def run_checks(outdir, builddir):
    res = cr.Results()
    a, b = cb.Run(outdir, "boot"), cb.Run(outdir, "boot2")
    for run, what in ((a, "A (-M pc)"), (b, "B (-M microvm)")):
        res.check(f"{what}: the recorded boot ran and exited 0", run.present and run.rc == 0,
                  f"rc={run.rc}, {run.secs} s; {run.stderr.strip()[-200:]}")
        res.check(f"{what}: the kernel's counts are complete, all SVM", run.ref_ok and run.other_isa == 0,
                  run.ref_detail)
    rc = cr.read(builddir, "boot-diff.rc")
    res.check("kvmscope diff exited 0", (rc or "").strip() == "0", f"rc={(rc or '').strip()}")
    try:
        doc = json.loads(cr.read(builddir, "boot-diff.json") or "")
    except ValueError as e:
        res.check("the diff is a JSON document", False, str(e))
        return res
    res.check("schema kvmscope.diff/1, A and B the two recordings",
              doc.get("schema") == "kvmscope.diff/1"
              and doc.get("a", {}).get("source") == "kvmscope recording"
              and doc.get("b", {}).get("source") == "kvmscope recording",
              f"schema={doc.get('schema')}, a={doc.get('a', {}).get('input')}, b={doc.get('b', {}).get('input')}")
    hw = rows_of(doc, "hardware")
    want = {c: (a.hw.get(c, 0), b.hw.get(c, 0)) for c in set(a.hw) | set(b.hw)}
    bad = {c: (hw.get(c), want.get(c)) for c in set(hw) | set(want) if hw.get(c) != want.get(c)}
    res.check(f"every hardware reason ({len(want)}): count_a and count_b equal the kernel's counts of each boot",
              not bad and want,
              "diff/kernel " + ", ".join(f"0x{c:x}={d}/{k}" for c, (d, k) in sorted(bad.items()))
              if bad else ", ".join(f"0x{c:x}={n[0]}/{n[1]}" for c, n in sorted(want.items())))
    res.check("the hardware totals equal the kernel's kvm_exit counts",
              total_of(doc, "hardware") == (a.total, b.total),
              f"diff {total_of(doc, 'hardware')}, kernel ({a.total}, {b.total})")
    vmm = rows_of(doc, "vmm")
    want_vmm = {c: (a.vmm.get(c, 0), b.vmm.get(c, 0)) for c in set(a.vmm) | set(b.vmm)}
    res.check("every exit to the VMM: count_a and count_b equal the kernel's kvm_userspace_exit counts",
              vmm == want_vmm, f"diff {sorted(vmm.items())}; kernel {sorted(want_vmm.items())}")
    sig = [r.get("reason") for r in doc.get("rows", []) if r.get("kind") == "reason" and r.get("count_significant")]
    res.check("two machine types differ: some reason's change is significant", bool(sig), ", ".join(sig[:8]))
    expect = (cr.read(builddir, "boot-diff-gate.expect") or "").strip()
    got = (cr.read(builddir, "boot-diff-gate.rc") or "").strip()
    res.check("--fail-if 'hardware:-1%' --fail-on-numbers exits as the kernel's totals say",
              expect != "" and got == expect, f"exit {got}, expected {expect} (kernel totals {a.total} -> {b.total})")
    text = cr.read(builddir, "boot-diff.txt") or ""
    res.check("the text diff states normalisation and significance",
              "normalised: absolute counts" in text and "significance: counts: conditional binomial" in text,
              text[:200].replace("\n", " | "))
    print(f"{len(res.rows) - len(res.failed)}/{len(res.rows)} checks passed")
    return res


def gate_expect(outdir):
    """The exit status `--fail-if hardware:-1% --fail-on-numbers` must have: 1 when B's kvm_exit
    count is at least 1% below A's, else 0."""
    a, b = cb.Run(outdir, "boot"), cb.Run(outdir, "boot2")
    return 1 if a.total > 0 and 100.0 * (a.total - b.total) / a.total >= 1 else 0


def self_test():
    hist = lambda counts: cr.make_hist([(101, cb.exit_isa.SVM.isa, c, n) for c, n in counts.items()], ("common_pid", "isa", "exit_reason"))
    ok = True
    for label, broken in (("good", None), ("count off by one", "count"), ("gate wrong", "gate")):
        with tempfile.TemporaryDirectory() as o, tempfile.TemporaryDirectory() as bd:
            files = {}
            for name, counts in (("boot", {0x7b: 10, 0x400: 5}), ("boot2", {0x7b: 4, 0x72: 3})):
                files.update({f"{name}.cmd": "x", f"{name}.rc": "0", f"{name}.secs": "1",
                              f"{name}.hist": hist(counts),
                              f"{name}.uhist": cr.make_hist([(2, 0, 1)], ("reason", "errno"))})
            for f, t in files.items():
                with open(os.path.join(o, f), "w") as fh:
                    fh.write(t)
            rows = [{"kind": "total", "level": "hardware", "count_a": 15, "count_b": 7},
                    {"kind": "reason", "level": "hardware", "code": 0x7b, "code_text": "0x7b", "reason": "io",
                     "count_a": 10 + (broken == "count"), "count_b": 4, "count_significant": True},
                    {"kind": "reason", "level": "hardware", "code": 0x400, "code_text": "0x400", "reason": "npf",
                     "count_a": 5, "count_b": 0},
                    {"kind": "reason", "level": "hardware", "code": 0x72, "code_text": "0x72", "reason": "cpuid",
                     "count_a": 0, "count_b": 3},
                    {"kind": "reason", "level": "vmm", "code": 2, "code_text": "2", "reason": "KVM_EXIT_IO",
                     "count_a": 1, "count_b": 1}]
            doc = {"schema": "kvmscope.diff/1", "a": {"source": "kvmscope recording"},
                   "b": {"source": "kvmscope recording"}, "rows": rows}
            out = {"boot-diff.json": json.dumps(doc), "boot-diff.rc": "0",
                   "boot-diff.txt": "normalised: absolute counts\nsignificance: counts: conditional binomial ...",
                   "boot-diff-gate.expect": str(gate_expect(o)),
                   "boot-diff-gate.rc": "0" if broken == "gate" else "1"}
            for f, t in out.items():
                with open(os.path.join(bd, f), "w") as fh:
                    fh.write(t)
            failed = bool(run_checks(o, bd).failed)
            if failed != (broken is not None):
                print(f"SELF-TEST FAIL: {label}")
                ok = False
    print("SELF-TEST PASS" if ok else "SELF-TEST FAIL")
    return ok


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return 0 if self_test() else 1
    if len(argv) == 3 and argv[1] == "--gate-expect":
        print(gate_expect(argv[2]))
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if run_checks(argv[1], argv[2]).failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
