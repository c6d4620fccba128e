#!/usr/bin/env python3
"""Check what tests/nested/l1-kpatch.sh brought out of L1 (the kernel patch series, kernel/).

Usage: check-kpatch.py OUTDIR [--kvmscope BIN]
                                   one PASS/FAIL line per check, the overhead table, a summary;
                                   exit 0 only if every check passed. BIN (kvmscope, runs on the
                                   host) reads the query case's kernel log with report --dmesg.
       check-kpatch.py --self-test runs the parsers and checks on made-up outputs.

References: each case's .hist/.uhist (tracefs hist triggers on kvm_exit / kvm_userspace_exit,
the exact kernel counts of the case). The patch's kernel-log lines (kernel/README.md):
  kvm_exit_stats: vm <pid> <isa>: report <seq>: <total> exits, <cycles> cycles, tsc_khz <khz>
  kvm_exit_stats: vm <pid> <isa>: exit <code> (<name>): <count> exits, <cycles> cycles
  kvm_exit_stats: vm <pid> <isa>: <n> reports suppressed
  kvm_exit_stats: vm <pid> <isa>: final: <total> exits, <cycles> cycles, tsc_khz <khz>,
      reports <printed>, suppressed <n>          (one line)
"""

import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("check_results", os.path.join(HERE, "check-results.py"))
cr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cr)

# The hardware of the outputs (check_outdir sets them from L1's isa.txt: the SVM bed or the VMX
# bed): its codes (exit_isa.py) and the running kernel's names for them (kvm_exit.format).
P = cr.exit_isa.SVM
NAMES = dict(P.builtin_names)
LEAF_REASON_CYCLES, LEAF_REASON_EXITS, LEAF_CYCLES, LEAF_EXITS = 0x4FFFFFFC, 0x4FFFFFFD, 0x4FFFFFFE, 0x4FFFFFFF

PREFIX = r"kvm_exit_stats: vm (\d+) (vmx|svm): "
RE_REPORT = re.compile(PREFIX + r"report (\d+): (\d+) exits, (\d+) cycles, tsc_khz (\d+)$")
RE_EXIT = re.compile(PREFIX + r"exit (\d+) \((.*)\): (\d+) exits, (\d+) cycles$")
RE_SUPP = re.compile(PREFIX + r"(\d+) reports suppressed$")
RE_FINAL = re.compile(PREFIX + r"final: (\d+) exits, (\d+) cycles, tsc_khz (\d+), reports (\d+), suppressed (\d+)$")


class VmLog:
    def __init__(self):
        self.reports = []      # [{seq, total, cycles, khz, exits: {code: (name, n, cyc)}}]
        self.suppressed_lines = []
        self.final = None      # {total, cycles, khz, printed, suppressed, exits}
        self.bad = []


def parse_dmesg(text):
    """{(pid, isa): VmLog}; lines that carry the prefix but match no format land in .bad."""
    vms = {}
    current = {}
    for raw in (text or "").splitlines():
        i = raw.find("kvm_exit_stats: ")
        if i < 0:
            continue
        line = raw[i:].rstrip()
        m = re.match(PREFIX, line)
        if not m:
            vms.setdefault(("?", "?"), VmLog()).bad.append(line)
            continue
        key = (int(m.group(1)), m.group(2))
        vm = vms.setdefault(key, VmLog())
        if (m := RE_REPORT.match(line)):
            rep = {"seq": int(m.group(3)), "total": int(m.group(4)), "cycles": int(m.group(5)),
                   "khz": int(m.group(6)), "exits": {}}
            vm.reports.append(rep)
            current[key] = rep
        elif (m := RE_FINAL.match(line)):
            vm.final = {"total": int(m.group(3)), "cycles": int(m.group(4)), "khz": int(m.group(5)),
                        "printed": int(m.group(6)), "suppressed": int(m.group(7)), "exits": {}}
            current[key] = vm.final
        elif (m := RE_EXIT.match(line)):
            if key not in current:
                vm.bad.append("exit line before any header: " + line)
            else:
                current[key]["exits"][int(m.group(3))] = (m.group(4), int(m.group(5)), int(m.group(6)))
        elif (m := RE_SUPP.match(line)):
            vm.suppressed_lines.append(int(m.group(3)))
        else:
            vm.bad.append(line)
    return vms


def parse_probe(stdout):
    """[(i, leaf, ecx_in, eax, ebx, ecx, edx)], header dict or None."""
    head = None
    queries = []
    for line in (stdout or "").splitlines():
        m = re.match(r"KPATCH-PROBE pid (\d+) cpuid (\d+) io (\d+) hlt (\d+) queries (\d+)", line)
        if m:
            head = dict(zip(("pid", "cpuid", "io", "hlt", "queries"), map(int, m.groups())))
        m = re.match(r"KPATCH-PROBE query (\d+) leaf 0x([0-9a-f]+) ecx 0x([0-9a-f]+): "
                     r"eax 0x([0-9a-f]+) ebx 0x([0-9a-f]+) ecx 0x([0-9a-f]+) edx 0x([0-9a-f]+)", line)
        if m:
            queries.append(tuple(int(g, 10 if k == 0 else 16) for k, g in enumerate(m.groups())))
    return head, queries


def the_vm(res, name, vms):
    real = {k: v for k, v in vms.items() if k != ("?", "?")}
    bad = [b for v in vms.values() for b in v.bad]
    res.check(f"{name}: every kvm_exit_stats line has the documented format", not bad, "; ".join(bad[:3]))
    if not res.check(f"{name}: the kernel log has the reports of exactly one VM", len(real) == 1,
                     f"vms {sorted(real)}"):
        return None, None
    (key, vm), = real.items()
    return key, vm


def check_final(res, case, vm, every):
    """The final report: exact totals against the hist, per reason, names, accounting."""
    f = vm.final
    if not res.check(f"{case.name}: final report printed", f is not None):
        return
    ref = case.ref.hw_counts()
    logged = {c: n for c, (_, n, _) in f["exits"].items()}
    diff = {c: (logged.get(c, 0), ref.get(c, 0)) for c in set(logged) | set(ref) if logged.get(c, 0) != ref.get(c, 0)}
    res.check(f"{case.name}: final report per reason equals the kernel's hist", not diff and case.ref.ok,
              "log/hist " + ", ".join(f"{P.code_text(c)}={a}/{b}" for c, (a, b) in sorted(diff.items()))
              if diff else f"{case.ref.total} exits: {cr.fmt_counts(ref)}")
    res.check(f"{case.name}: final total equals the hist total and the sum of its exit lines",
              f["total"] == case.ref.total == sum(logged.values()),
              f"final {f['total']}, hist {case.ref.total}, lines {sum(logged.values())}")
    names = {c: nm for c, (nm, _, _) in f["exits"].items() if c in NAMES}
    res.check(f"{case.name}: names from the kernel's {P.name.upper()}_EXIT_REASONS",
              all(NAMES[c] == nm for c, nm in names.items()) and names,
              ", ".join(f"{c}={nm}" for c, nm in sorted(names.items())))
    res.check(f"{case.name}: final cycles > 0, = sum of its lines, tsc_khz > 0",
              f["cycles"] > 0 and f["khz"] > 0 and f["cycles"] == sum(c for (_, _, c) in f["exits"].values()),
              f"cycles {f['cycles']} tsc_khz {f['khz']}")
    want = f["total"] // every if every else 0
    res.check(f"{case.name}: reports + suppressed = floor(total / {every})",
              f["printed"] + f["suppressed"] == want,
              f"printed {f['printed']} + suppressed {f['suppressed']}, floor({f['total']}/{every}) = {want}")
    res.check(f"{case.name}: report lines in the log = the final's printed count",
              len(vm.reports) == f["printed"], f"{len(vm.reports)} report headers, final says {f['printed']}")


def check_periodic(res, case, vm, every):
    seqs = [r["seq"] for r in vm.reports]
    res.check(f"{case.name}: report seqs increase and each report has >= seq * {every} exits",
              seqs == sorted(set(seqs)) and all(r["total"] >= r["seq"] * every for r in vm.reports),
              f"seqs {seqs[:12]}{' ...' if len(seqs) > 12 else ''}")
    bad = [r["seq"] for r in vm.reports if r["total"] != sum(n for (_, n, _) in r["exits"].values())]
    res.check(f"{case.name}: every report's total = the sum of its exit lines", not bad, f"bad seqs {bad[:5]}")
    if vm.final:
        announced = sum(vm.suppressed_lines)
        res.check(f"{case.name}: suppressed lines announce at most the final's suppressed count",
                  announced <= vm.final["suppressed"], f"announced {announced}, final {vm.final['suppressed']}")


def check_probe(res, case, key, vm):
    head, qs = parse_probe(case.stdout)
    if not res.check(f"{case.name}: the probe answered every query", head and len(qs) == head["queries"],
                     f"{len(qs)} answers, header {head}"):
        return
    res.check(f"{case.name}: the report's vm pid is the probe's pid", key[0] == head["pid"],
              f"log {key[0]}, probe {head['pid']}")
    nq = head["queries"]
    ref = case.ref.hw_counts()
    for i, leaf, ecx_in, a, b, c, d in qs:
        tag = f"{case.name}: CPUID 0x{leaf:x} ecx=0x{ecx_in:x}"
        cyc = (b << 32) | c
        if leaf in (LEAF_REASON_EXITS, LEAF_REASON_CYCLES) and ecx_in not in NAMES:
            # Undefined: SVM's codes are < 0x404 or >= 0x80000000, VMX's basic reasons < 0x100.
            if ecx_in >= 0x1000:
                res.check(f"{tag} (undefined reason) = 0,0,0,0xffffffff", (a, b, c, d) == (0, 0, 0, 0xFFFFFFFF),
                          f"{a:#x},{b:#x},{c:#x},{d:#x}")
                continue
        if leaf == LEAF_REASON_EXITS:
            want = {P.cpuid: head["cpuid"] + i, P.io: head["io"] + i - 1, P.hlt: head["hlt"],
                    P.hypercall: 0}.get(ecx_in)
            if want is None:   # async reasons (interrupt): bounded by the whole run's count
                res.check(f"{tag} <= the run's hist count", b == c == d == 0 and a <= ref.get(ecx_in, 0),
                          f"eax {a}, hist {ref.get(ecx_in, 0)}")
            else:
                res.check(f"{tag} = {want}", (a, b, c, d) == (want, 0, 0, 0), f"{a},{b:#x},{c:#x},{d:#x}")
        elif leaf == LEAF_REASON_CYCLES:
            fc = vm.final["exits"].get(ecx_in, (0, 0, 0))[2] if vm.final else 0
            res.check(f"{tag} cycles > 0 and <= the final report's", a == d == 0 and 0 < cyc <= fc,
                      f"{cyc} (final {fc})")
        elif leaf == LEAF_CYCLES:
            fc = vm.final["cycles"] if vm.final else 0
            res.check(f"{tag} total cycles > 0 and <= the final report's", a == d == 0 and 0 < cyc <= fc,
                      f"{cyc} (final {fc})")
        elif leaf == LEAF_EXITS:
            # After query i's CPUID exit: its OUT 0x11, (CPUID + OUT) per later query, OUT 0x12.
            after = 1 + 2 * (nq - i) + 1
            async_ = sum(n for code, n in ref.items() if code not in (P.cpuid, P.io, P.hlt))
            late = case.ref.total - after - a
            res.check(f"{tag} total exits = hist total - {after} later exits (- async ones)",
                      b == c == d == 0 and 0 <= late <= async_,
                      f"eax {a}, hist {case.ref.total}, async exits after the query {late} (of {async_})")


QUERY_ROW = re.compile(r"^0x([0-9a-f]{3})\s+(\d+)\s+(\d+)\s+\S+\s+(\d+)\s+(.+)$")
QUERY_TOTAL = re.compile(r"^total\s+(\d+)\s+(\d+)\s+(\d+)\s+\(leaves")
QUERY_ALL = re.compile(r"in all: (\d+) CPUIDs, then one HLT")


def parse_query(stdout):
    """`kvmscope guest --query-exits` -> ({code: (exits, cycles, own, name)}, total, in_all)."""
    rows, total, in_all = {}, None, None
    for line in (stdout or "").splitlines():
        m = QUERY_ROW.match(line)
        if m:
            rows[int(m.group(1), 16)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5).strip())
        m = QUERY_TOTAL.match(line)
        if m:
            total = tuple(map(int, m.groups()))
        m = QUERY_ALL.search(line)
        if m:
            in_all = int(m.group(1))
    return rows, total, in_all


def check_query(res, case, vm, planned):
    """The in-guest view (kvmscope guest --query-exits) against the hist and the final report.
    The guest read its counters after its plan and before its final HLT; the io row sees every
    OUT, the hlt row all but that final HLT, the cpuid row the plan's + the query's own before
    the read + the reading one (exit_query.h)."""
    rows, total, in_all = parse_query(case.stdout)
    if not res.check(f"{case.name}: guest --query-exits printed its table", rows and total and in_all,
                     f"{len(rows)} rows, total {total}, in all {in_all}; stderr: {case.stderr[-200:]!r}"):
        return
    ref = case.ref.hw_counts()
    io, hlt, cpuid = rows.get(P.io), rows.get(P.hlt), rows.get(P.cpuid)
    res.check(f"{case.name}: in-guest io = {planned['io']} = the hist's",
              io and io[0] == planned["io"] == ref.get(P.io), f"guest {io}, hist {ref.get(P.io)}")
    res.check(f"{case.name}: in-guest hlt = {planned['hlt']} = the hist's - the final HLT",
              hlt and hlt[0] == planned["hlt"] == ref.get(P.hlt, 0) - 1, f"guest {hlt}, hist {ref.get(P.hlt)}")
    res.check(f"{case.name}: in-guest cpuid = {planned['cpuid']} + own + the reading CPUID",
              cpuid and cpuid[0] == planned["cpuid"] + cpuid[2] + 1, f"guest {cpuid}")
    res.check(f"{case.name}: hist cpuid = {planned['cpuid']} + every CPUID of the query ({in_all})",
              ref.get(P.cpuid) == planned["cpuid"] + in_all, f"hist {ref.get(P.cpuid)}")
    names = {c: r[3] for c, r in rows.items() if c in NAMES}
    res.check(f"{case.name}: in-guest row names are the kernel's", names and all(NAMES[c] == n for c, n in names.items()),
              ", ".join(f"0x{c:x}={n}" for c, n in sorted(names.items())))
    if vm.final:
        fin = vm.final["exits"]
        over = {c: (r[0], fin.get(c, ("", 0, 0))[1]) for c, r in rows.items()
                if r[0] > fin.get(c, ("", 0, 0))[1] or r[1] > fin.get(c, ("", 0, 0))[2]}
        res.check(f"{case.name}: no in-guest row exceeds the final report (exits and cycles)", not over,
                  f"guest/final {over}" if over else f"{len(rows)} rows")
        res.check(f"{case.name}: in-guest totals <= the final report's, > 0",
                  0 < total[0] <= vm.final["total"] and 0 < total[1] <= vm.final["cycles"],
                  f"guest {total[:2]}, final {vm.final['total']}, {vm.final['cycles']}")


def check_report_dmesg(res, case, vm, outdir, kvmscope):
    """kvmscope report --dmesg reads the case's kernel log into the same per-reason totals."""
    log = os.path.join(outdir, case.name + ".dmesg")
    try:
        p = subprocess.run([kvmscope, "report", "--dmesg", log, "--json"], capture_output=True, text=True,
                           timeout=60, check=False)
        doc = json.loads(p.stdout) if p.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        p, doc = None, None
        res.check(f"{case.name}: kvmscope report --dmesg ran", False, str(e))
        return
    if not res.check(f"{case.name}: kvmscope report --dmesg ran", doc is not None, p.stderr[-300:]):
        return
    cr.check_vs_ref(res, case, f"{case.name}: kvmscope report --dmesg", cr.counts_of(doc, "hardware"))
    kl = doc.get("kernel_log", {})
    res.check(f"{case.name}: report --dmesg total = the final report's",
              vm.final and doc.get("totals", {}).get("hardware") == vm.final["total"],
              f"report {doc.get('totals')}, final {vm.final['total'] if vm.final else None}; kernel_log keys {sorted(kl)[:6]}")


def check_bpf(res, case):
    doc = cr.load_json(res, case)
    if doc is None:
        return
    cr.check_vs_ref(res, case, f"{case.name}: kvmscope stat (BPF)", cr.counts_of(doc, "hardware"))


def check_rate(res, outdir, where):
    rates = {}
    for fn in sorted(os.listdir(outdir)):
        m = re.match(r"rate-(\w+)-(\d+)\.stdout$", fn)
        if not m:
            continue
        text = cr.read(outdir, fn) + (cr.read(outdir, fn.replace(".stdout", ".stderr")) or "")
        r = re.findall(r"([\d,]+) exits/s", text)
        rates.setdefault(m.group(1), []).append(int(r[-1].replace(",", "")) if r else None)
    if not rates:
        return
    print(f"     overhead: exits/s of `kvmscope guest --cpuid 20000 --io 1000 --hlt 1000` in L1 ({where})")
    base = None
    for variant in ("stock", "bpf", "patched0", "patched10k"):
        vals = rates.get(variant, [])
        ok = vals and all(v is not None for v in vals)
        res.check(f"rate: {variant}: every round ran", ok, f"{vals}")
        if not ok:
            continue
        med = statistics.median(vals)
        base = base or (med if variant == "stock" else None)
        rel = f" ({(med / base - 1) * 100:+.1f}% vs stock)" if base and variant != "stock" else ""
        print(f"     {variant:>10}: median {med:,.0f} exits/s{rel}; rounds {', '.join(f'{v:,}' for v in vals)}")


def set_isa(res, outdir):
    """P and NAMES from L1's isa.txt and kvm_exit.format (SVM where isa.txt is missing: outputs
    of a run before L1 wrote it)."""
    global P, NAMES
    isa = (cr.read(outdir, "isa.txt") or "svm").strip()
    ok = res.check("L1 loaded kvm_amd or kvm_intel (isa.txt)", isa in cr.exit_isa.PROFILES, f"isa {isa!r}")
    P = cr.exit_isa.PROFILES.get(isa, cr.exit_isa.SVM)
    tables = cr.exit_isa.kernel_tables(cr.read(outdir, "kvm_exit.format"))
    NAMES = dict(tables[P.name]) if tables else dict(P.builtin_names)
    # check-results.py's helpers (check_vs_ref, load_json) read its own P.
    cr.P, cr.NAMES = P, NAMES
    return ok


def check_outdir(outdir, kvmscope=None):
    res = cr.Results()
    cases = (cr.read(outdir, "cases.txt") or "").split()
    res.check("L1 finished every case", cr.read(outdir, "done.txt") is not None, f"cases {cases}")
    set_isa(res, outdir)
    vmod = "kvm_intel" if P.name == "vmx" else "kvm_amd"
    if "load" in cases:
        load = cr.read(outdir, "load.txt") or ""
        res.check(f"load: patched kvm and {vmod} are loaded",
                  re.search(rf"^{vmod} ", load, re.M) and re.search(r"^kvm ", load, re.M), "")
        res.check("load: kvm.exit_stats_every defaults to 10000", "exit_stats_every: 10000" in load,
                  (re.findall(r"exit_stats_every: .*", load) or ["?"])[0])
        res.check(f"load: kvm and {vmod} have BTF", "btf kvm: /sys" in load and f"btf {vmod}: /sys" in load,
                  "; ".join(re.findall(r"btf .*", load)))
        ld = cr.read(outdir, "load.dmesg") or ""
        bad = [ln for ln in ld.splitlines() if re.search(r"disagrees about version|Unknown symbol|Invalid module format|exec format", ln)]
        res.check("load: no version/symbol errors in the boot log", not bad, "; ".join(bad[:3]))
        sig = [ln.split("] ", 1)[-1] for ln in ld.splitlines() if "verification failed" in ln or "taints kernel" in ln]
        if sig:
            res.note("load: " + "; ".join(sig))
    for name in ("probe", "stat", "query", "every", "storm"):
        if name not in cases:
            continue
        case = cr.Case(outdir, name)
        if not cr.check_ran(res, case) or not cr.check_ref(res, case):
            continue
        every = int((cr.read(outdir, name + ".every") or "0").strip() or 0)
        key, vm = the_vm(res, name, parse_dmesg(cr.read(outdir, name + ".dmesg")))
        if vm is None:
            continue
        check_final(res, case, vm, every)
        check_periodic(res, case, vm, every)
        if name == "probe":
            check_probe(res, case, key, vm)
        if name in ("probe", "stat"):
            check_bpf(res, case)
        if name == "query":
            check_query(res, case, vm, {"cpuid": 3000, "io": 500, "hlt": 500})
            check_bpf(res, case)
            if kvmscope:
                check_report_dmesg(res, case, vm, outdir, kvmscope)
            else:
                res.note("query: no kvmscope binary given (--kvmscope): report --dmesg not checked")
        if name == "storm":
            secs = float(case.secs) if case.secs.replace(".", "").isdigit() else 0
            cap = 10 * (int(secs // 5) + 2)
            res.check("storm: the rate limit held (<= 10 reports per 5 s) and dropped reports were counted",
                      vm.final and len(vm.reports) <= cap and vm.final["suppressed"] > 0,
                      f"{len(vm.reports)} printed, {vm.final['suppressed'] if vm.final else '?'} suppressed "
                      f"in {case.secs} s")
    if "rate" in cases:
        check_rate(res, outdir, "Bochs" if P.name == "vmx" else "TCG")
    n_fail = len(res.failed)
    print(f"SUMMARY: {len(res.rows) - n_fail} passed, {n_fail} failed")
    return 0 if n_fail == 0 else 1


def self_test():
    log = """[  1.0] kvm_exit_stats: vm 77 svm: report 1: 1003 exits, 5000 cycles, tsc_khz 2000000
[  1.0] kvm_exit_stats: vm 77 svm: exit 114 (cpuid): 1000 exits, 4000 cycles
[  1.0] kvm_exit_stats: vm 77 svm: exit 1024 (npf): 3 exits, 1000 cycles
[  1.1] kvm_exit_stats: vm 77 svm: 1 reports suppressed
[  1.2] kvm_exit_stats: vm 77 svm: final: 2010 exits, 9000 cycles, tsc_khz 2000000, reports 1, suppressed 1
[  1.2] kvm_exit_stats: vm 77 svm: exit 114 (cpuid): 2007 exits, 8000 cycles
[  1.2] kvm_exit_stats: vm 77 svm: exit 1024 (npf): 3 exits, 1000 cycles
"""
    vms = parse_dmesg(log)
    vm = vms[(77, "svm")]
    assert len(vm.reports) == 1 and vm.reports[0]["exits"][114] == ("cpuid", 1000, 4000)
    assert vm.final["printed"] == 1 and vm.final["exits"][1024][1] == 3 and vm.suppressed_lines == [1]
    assert parse_dmesg("kvm_exit_stats: vm 1 svm: garbage")[(1, "svm")].bad
    head, qs = parse_probe("KPATCH-PROBE pid 5 cpuid 3 io 2 hlt 1 queries 1\n"
                           "KPATCH-PROBE query 1 leaf 0x4ffffffd ecx 0x72: eax 0x4 ebx 0x0 ecx 0x0 edx 0x0\n")
    assert head["pid"] == 5 and qs == [(1, 0x4FFFFFFD, 0x72, 4, 0, 0, 0)]
    rows, total, in_all = parse_query(
        "code   exits  cycles  share  own  reason\n"
        "0x072  3003   9000    85.0%  1    cpuid\n"
        "0x400  2      500     0.1%   5    npf\n"
        "total  3530   99999          0    (leaves 0x4fffffff, 0x4ffffffe)\n"
        "the query's own cpuid exits before the totals read: 1 (exits), 2 (cycles); in all: 523 CPUIDs, "
        "then one HLT (KVM_EXIT_HLT) ended vCPU 0\n")
    assert rows == {0x72: (3003, 9000, 1, "cpuid"), 0x400: (2, 500, 5, "npf")}, rows
    assert total == (3530, 99999, 0) and in_all == 523, (total, in_all)
    # A complete made-up outdir: the final report matches the hist, the check passes.
    with tempfile.TemporaryDirectory() as d:
        def w(n, t):
            with open(os.path.join(d, n), "w", encoding="utf-8") as f:
                f.write(t)
        w("cases.txt", "every\n")
        w("done.txt", "1\n")
        for n, t in (("cmd", "x"), ("rc", "0"), ("secs", "1.0"), ("every", "1000"), ("stdout", ""),
                     ("stderr", ""), ("dmesg", log)):
            w("every." + n, t)
        w("every.hist", "{ isa:          2, exit_reason:        114, vcpu_id:          0 } hitcount:       2007\n"
                        "{ isa:          2, exit_reason:       1024, vcpu_id:          0 } hitcount:          3\n"
                        "\nTotals:\n    Hits: 2010\n    Entries: 2\n    Dropped: 0\n")
        w("every.uhist", "\nTotals:\n    Hits: 0\n    Entries: 0\n    Dropped: 0\n")
        assert check_outdir(d) == 0
        w("every.hist", "{ isa:          2, exit_reason:        114, vcpu_id:          0 } hitcount:       2008\n"
                        "\nTotals:\n    Hits: 2008\n    Entries: 1\n    Dropped: 0\n")
        assert check_outdir(d) == 1
    # The same on VMX (isa.txt vmx): codes and names of the VMX table, isa 1 in the hist.
    vlog = log.replace(" svm:", " vmx:").replace("exit 114 (cpuid)", "exit 10 (CPUID)").replace(
        "exit 1024 (npf)", "exit 48 (EPT_VIOLATION)")
    with tempfile.TemporaryDirectory() as d:
        def w(n, t):
            with open(os.path.join(d, n), "w", encoding="utf-8") as f:
                f.write(t)
        w("cases.txt", "every\n")
        w("done.txt", "1\n")
        w("isa.txt", "vmx\n")
        for n, t in (("cmd", "x"), ("rc", "0"), ("secs", "1.0"), ("every", "1000"), ("stdout", ""),
                     ("stderr", ""), ("dmesg", vlog)):
            w("every." + n, t)
        hist = ("{ isa:          1, exit_reason:         10, vcpu_id:          0 } hitcount:       2007\n"
                "{ isa:          1, exit_reason:         48, vcpu_id:          0 } hitcount:          3\n"
                "\nTotals:\n    Hits: 2010\n    Entries: 2\n    Dropped: 0\n")
        w("every.hist", hist)
        w("every.uhist", "\nTotals:\n    Hits: 0\n    Entries: 0\n    Dropped: 0\n")
        assert check_outdir(d) == 0
        w("every.dmesg", vlog.replace("(CPUID)", "(cpuid)"))  # not the kernel's VMX name
        assert check_outdir(d) == 1
        w("every.dmesg", vlog)
        w("every.hist", hist.replace("isa:          1", "isa:          2"))  # SVM exits in a VMX run
        assert check_outdir(d) == 1
    print("self-test ok")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        sys.exit(self_test())
    args = sys.argv[1:]
    ks = None
    if len(args) == 3 and args[1] == "--kvmscope":
        ks = args[2]
        args = args[:1]
    if len(args) != 1:
        print(__doc__)
        sys.exit(2)
    sys.exit(check_outdir(args[0], ks))
