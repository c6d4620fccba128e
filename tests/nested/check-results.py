#!/usr/bin/env python3
"""Check what tests/nested/l1-tests.sh brought out of L1 (run on the host: the emulators make L1 slow).

Usage: check-results.py OUTDIR      prints one PASS/FAIL line per check (WARN for contract
                                    questions that do not fail the run) and a summary;
                                    exit 0 only if every check passed.
       check-results.py --self-test feeds made-up outputs (good and broken) through the checks.

Each case leaves <case>.{cmd,stdout,stderr,rc,secs,hist,uhist}, and the stat cases <case>.stat:
what `kvmscope stat -o` wrote (the JSON document or the text), while stdout holds only the
workload's own output. The .hist/.uhist files are tracefs
hist triggers on kvm_exit (keys isa, exit_reason, vcpu_id) and kvm_userspace_exit (reason, errno)
that counted every event in L1 while the case ran. There is one VM per case, so kvmscope's
per-reason counts must equal them exactly, timer interrupts included.

The same cases run in the SVM bed (QEMU TCG) and the VMX bed (Bochs); isa.txt says which, and
exit_isa.py holds each one's codes. kvm_exit.format (the running kernel's) gives the reason
names that kvmscope must print.
"""

import contextlib
import io
import json
import os
import re
import sys
import tempfile

import exit_isa

KVM_EXIT_IO, KVM_EXIT_HLT, KVM_EXIT_MMIO = 2, 5, 6
# The hardware of the outputs being checked (run_checks sets it from isa.txt) and the reason
# names of the kernel that ran them ({code: name}, from kvm_exit.format).
P = exit_isa.SVM
NAMES = dict(P.builtin_names)


def ct(code):
    """A hardware code as kvmscope and these checks write it."""
    return P.code_text(code)


def name_of(code):
    return NAMES.get(code, "other")


class Results:
    def __init__(self):
        self.rows = []
        self.warnings = []

    def check(self, name, ok, detail=""):
        self.rows.append((name, bool(ok), detail))
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
        return ok

    def skip(self, name, detail):
        print(f"SKIP {name}: {detail}")

    def warn(self, name, detail=""):
        self.warnings.append(name)
        print(f"WARN {name}{': ' + detail if detail else ''}")

    @staticmethod
    def note(text):
        print(f"     {text}")

    @property
    def failed(self):
        return [r for r in self.rows if not r[1]]


def read(outdir, name, mode="r"):
    """The file's text (bytes with mode "rb"), or None where it does not exist."""
    path = os.path.join(outdir, name)
    if not os.path.exists(path):
        return None
    if mode == "rb":
        with open(path, "rb") as f:
            return f.read()
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


# ---- the reference: tracefs hist triggers ----

def _signed(v):
    """hist prints int fields such as errno as u64: 18446744073709551612 is -4."""
    return v - (1 << 64) if v >= 1 << 63 else v


MASK64 = (1 << 64) - 1  # hist prints u64 keys; _signed made the upper half negative

HIST_ROW = re.compile(r"^\{ (.*) \} hitcount:\s*(\d+)\s*$")


def parse_hist(text):
    """[({key: int}, hitcount)], hits, dropped; None when the file is missing or malformed."""
    if not text:
        return None
    rows = []
    for line in text.splitlines():
        m = HIST_ROW.match(line)
        if m:
            keys = {k.strip(): _signed(int(v)) for k, v in (kv.split(":", 1) for kv in m.group(1).split(","))}
            rows.append((keys, int(m.group(2))))
    hits = re.search(r"^\s*Hits:\s*(\d+)", text, re.M)
    dropped = re.search(r"^\s*Dropped:\s*(\d+)", text, re.M)
    if not hits or not dropped:
        return None
    return rows, int(hits.group(1)), int(dropped.group(1))


class Reference:
    """Exact kernel-side counts of one case."""

    def __init__(self, hist_text, uhist_text):
        h, u = parse_hist(hist_text), parse_hist(uhist_text)
        self.ok = h is not None and u is not None and h[2] == 0 and u[2] == 0
        self.detail = ("missing or unreadable hist files" if h is None or u is None
                       else f"kvm_exit hits={h[1]} dropped={h[2]}, kvm_userspace_exit hits={u[1]} dropped={u[2]}")
        self.hw = {}        # {(vcpu, code): n}, the bed's ISA only
        self.other_isa = 0  # exits of another ISA (must be none here)
        self.vmm = {}       # {code: n} for errno == 0
        self.vmm_errors = {}
        self.total = 0
        if h:
            for keys, n in h[0]:
                self.total += n
                if keys.get("isa") == P.isa:
                    k = (keys.get("vcpu_id"), keys.get("exit_reason"))
                    self.hw[k] = self.hw.get(k, 0) + n
                else:
                    self.other_isa += n
        if u:
            for keys, n in u[0]:
                if keys.get("errno", 0) == 0:
                    self.vmm[keys["reason"]] = self.vmm.get(keys["reason"], 0) + n
                else:
                    self.vmm_errors[keys["errno"]] = self.vmm_errors.get(keys["errno"], 0) + n

    def hw_counts(self, vcpu="any"):
        out = {}
        for (v, code), n in self.hw.items():
            if vcpu == "any" or v == vcpu:
                out[code] = out.get(code, 0) + n
        return out


def fmt_counts(counts):
    return ", ".join(f"{ct(c)}={n}" for c, n in sorted(counts.items())) or "none"


def report_extras(res, label, counts, wanted):
    extra = {c: n for c, n in counts.items() if c not in wanted}
    if extra:
        res.note(f"{label}: extra exits tolerated: "
                 + ", ".join(f"{name_of(c)} {ct(c)}={n}" for c, n in sorted(extra.items())))


def expect_counts(res, label, counts, wanted):
    """counts[code] == n for each wanted code; the rest reported."""
    ok = True
    for code, n in sorted(wanted.items()):
        got = counts.get(code, 0)
        ok &= res.check(f"{label}: {P.name} {ct(code)} ({name_of(code)}) count {n}", got == n, f"got {got}")
    report_extras(res, label, counts, wanted)
    return ok


class Case:
    """One case's files."""

    def __init__(self, outdir, name):
        self.name = name
        self.outdir = outdir
        self.cmd = (read(outdir, name + ".cmd") or "").strip()
        self.stdout = read(outdir, name + ".stdout")
        self.stat = read(outdir, name + ".stat")  # kvmscope stat -o FILE
        self.stderr = read(outdir, name + ".stderr") or ""
        rc = (read(outdir, name + ".rc") or "").strip()
        self.rc = int(rc) if rc.lstrip("-").isdigit() else None
        self.secs = (read(outdir, name + ".secs") or "?").strip()
        self.ref = Reference(read(outdir, name + ".hist"), read(outdir, name + ".uhist"))
        self.leftovers = read(outdir, name + ".leftovers")
        self._outdir = outdir

    def extra(self, ext):
        """Another of the case's files (the live views': guest, guest-rc, metrics, missing)."""
        return read(self._outdir, f"{self.name}.{ext}")

    @property
    def ran(self):
        return self.stdout is not None and self.rc is not None


def check_ran(res, case):
    """Common preconditions: the case ran and exited 0 (stat exits with the command's status)."""
    if case.leftovers:
        res.check(f"{case.name}: no kvmscope process outlived the case", False, case.leftovers.strip())
    if not res.check(f"{case.name}: ran in L1", case.ran,
                     f"{case.secs} s: {case.cmd}" if case.ran else "no output came back"):
        return False
    detail = f"rc={case.rc}"
    if case.rc != 0:
        tail = case.stderr.strip().splitlines()[-5:]
        detail += " (143/137 = killed by the L1 timeout); stderr tail: " + " | ".join(tail)
    return res.check(f"{case.name}: exit status 0", case.rc == 0, detail)


def check_ref(res, case):
    ok = case.ref.ok and case.ref.other_isa == 0
    res.check(f"{case.name}: reference counts (tracefs hist triggers) complete", ok,
              case.ref.detail + (f", exits of another ISA than {P.name}: {case.ref.other_isa}"
                                 if case.ref.other_isa else ""))
    if case.ref.vmm_errors:
        res.note(f"{case.name}: kvm_userspace_exit with errno: {case.ref.vmm_errors}")
    return ok


def check_vs_ref(res, case, label, counts, vcpu="any"):
    """kvmscope's per-reason hardware counts equal the kernel's for the same run, extras included."""
    if not case.ref.ok:
        res.note(f"{label}: no exact reference, cross-check skipped")
        return
    ref = case.ref.hw_counts(vcpu)
    diff = count_diff(counts, ref)
    res.check(f"{label}: every hardware reason count equals the kernel's hist", not diff,
              "kvmscope/hist " + ", ".join(f"{ct(c)}={a}/{b}" for c, (a, b) in sorted(diff.items()))
              if diff else f"{sum(ref.values())} exits")


def check_vmm_vs_ref(res, case, doc):
    """Exits to the VMM, and KVM_RUN errors (code_text "-errno"), equal the kernel's hist."""
    if not case.ref.ok:
        return
    exits, errors = {}, {}
    for e in doc.get("exits", []):
        if e.get("level") != "vmm":
            continue
        text = str(e.get("code_text", ""))
        if text.startswith("-") and text[1:].isdigit():
            errors[int(text)] = errors.get(int(text), 0) + e.get("count", 0)
        else:
            exits[e["code"]] = exits.get(e["code"], 0) + e.get("count", 0)
    ok = exits == case.ref.vmm and errors == case.ref.vmm_errors
    res.check(f"{case.name}: every VMM exit and KVM_RUN error count equals the kernel's hist", ok,
              f"kvmscope {exits} errors {errors}; hist {case.ref.vmm} errors {case.ref.vmm_errors}")


# ---- JSON (kvmscope.stat/1) ----

def load_json(res, case, schema="kvmscope.stat/1"):
    """The stat document: the whole of <case>.stat (stat -o), nothing before or after it. The
    command's own stdout (the guest prints its plan table) must hold none of it."""
    text = case.stat
    if text is None:
        res.check(f"{case.name}: kvmscope stat -o wrote its file", False, f"no {case.name}.stat")
        return None
    try:
        doc = json.loads(text)
    except ValueError as e:
        head = text[:200].replace("\n", "\\n")
        res.check(f"{case.name}: {case.name}.stat is one JSON document", False, f"{e}; starts: {head!r}")
        return None
    res.check(f"{case.name}: stdout is the command's own, without the JSON document",
              '"schema"' not in (case.stdout or ""), (case.stdout or "")[:120].replace("\n", "\\n"))
    ok = isinstance(doc, dict) and doc.get("schema") == schema
    res.check(f"{case.name}: JSON schema {schema}", ok,
              f"schema={doc.get('schema') if isinstance(doc, dict) else type(doc).__name__}")
    if not ok:
        return None
    missing = [k for k in ("target", "duration_s", "names", "totals", "health", "vms", "exits", "notes") if k not in doc]
    res.check(f"{case.name}: JSON has every top-level key", not missing, f"missing {missing}" if missing else "")
    return doc


def json_case(res, case, schema="kvmscope.stat/1"):
    """What every case with a JSON document checks first: it ran and exited 0, the kernel's
    reference is complete, the document loads; then one VM and well-formed entries. The document,
    or None where there is nothing more to check."""
    if not check_ran(res, case):
        return None
    check_ref(res, case)
    doc = load_json(res, case, schema)
    if doc is None:
        return None
    check_one_vm(res, case, doc)
    check_entries_well_formed(res, case, doc)
    return doc


def check_one_vm(res, case, doc):
    vms = doc.get("vms") or []
    pids = {e.get("vm_pid") for e in doc.get("exits", [])}
    ok = len(vms) == 1 and pids == {vms[0].get("pid")}
    detail = (f"vms={[(v.get('pid'), v.get('name'), v.get('comm')) for v in vms]} "
              f"exit vm_pids={sorted(p for p in pids if p is not None)}")
    res.check(f"{case.name}: exactly one VM, all exits keyed by its pid", ok, detail)


def counts_of(doc, level, vcpu="any"):
    out = {}
    for e in doc.get("exits", []):
        if e.get("level") != level or (vcpu != "any" and e.get("vcpu") != vcpu):
            continue
        out[e["code"]] = out.get(e["code"], 0) + e.get("count", 0)
    return out


def check_entries_well_formed(res, case, doc):
    bad = []
    for e in doc.get("exits", []):
        lvl = e.get("level")
        want_isa = P.name if lvl == "hardware" else "none"
        if lvl not in ("hardware", "vmm") or e.get("isa") != want_isa:
            bad.append(f"level={lvl} isa={e.get('isa')} code={e.get('code')}")
        elif lvl == "hardware" and e.get("code_text") != ct(e.get("code", -1)):
            bad.append(f"code={e.get('code')} code_text={e.get('code_text')!r}")
        elif not e.get("reason"):
            bad.append(f"code={e.get('code')} has no reason name")
    res.check(f"{case.name}: entries: {P.name} hardware with code_text {ct(P.cpuid)!r} style, "
              "vmm with isa none, all named",
              not bad, "; ".join(bad[:5]))


def check_names(res, case, doc, codes):
    """Every hardware entry of these codes, and of any other code the kernel's table names, is
    named as the running kernel names it."""
    got = {}
    for e in doc.get("exits", []):
        if e.get("level") == "hardware" and (e.get("code") in codes or e.get("code") in NAMES):
            got.setdefault(e["code"], set()).add(e.get("reason"))
    bad = [c for c in set(codes) | set(got) if got.get(c) != {NAMES.get(c)}]
    res.check(f"{case.name}: reason names from the kernel's table", not bad,
              ", ".join(f"{ct(c)}={sorted(map(str, got.get(c, {None})))} (kernel {NAMES.get(c)!r})"
                        for c in sorted(set(codes) | set(got))))


def check_timing(res, case, doc, codes, vcpus):
    """time_ns > 0; timed == count except for the one last exit of each vCPU (no entry follows
    it); the histogram sums to timed; p50 <= p99 <= max."""
    for vcpu in vcpus:
        short, bad, seen = [], [], 0
        for e in doc.get("exits", []):
            if e.get("level") != "hardware" or e.get("vcpu") != vcpu or e.get("code") not in codes:
                continue
            seen += 1
            c, t, tag = e.get("count", 0), e.get("timed", -1), ct(e["code"])
            if t == c - 1:
                short.append(tag)
            elif t != c:
                bad.append(f"{tag} timed={t} count={c}")
            if not e.get("time_ns", 0) > 0:
                bad.append(f"{tag} time_ns={e.get('time_ns')}")
            hist = e.get("hist_log2_ns")
            if not isinstance(hist, list) or sum(hist) != t:
                bad.append(f"{tag} sum(hist_log2_ns)={sum(hist) if isinstance(hist, list) else hist} != timed {t}")
            p50, p99, mx = e.get("p50_ns"), e.get("p99_ns"), e.get("max_ns")
            nums = all(isinstance(x, (int, float)) for x in (p50, p99, mx))
            if not (nums and 0 < p50 <= p99 and 0 < mx):
                bad.append(f"{tag} p50/p99/max={p50}/{p99}/{mx}")
        if not seen:
            bad.append("no entries")
        if len(short) > 1:
            bad.append(f"timed == count-1 for {len(short)} reasons ({', '.join(short)}); only the last exit may lack an entry")
        who = "" if vcpu is None else f" vcpu {vcpu}"
        res.check(f"{case.name}:{who} handling times (time_ns>0, timed==count but the last, hist, p50<=p99)",
                  not bad, "; ".join(bad[:6]) or (f"last exit untimed: {short[0]}" if short else "all timed"))


def check_totals(res, case, doc):
    t = doc.get("totals", {})
    hw, vmm = sum(counts_of(doc, "hardware").values()), sum(counts_of(doc, "vmm").values())
    ok = t.get("hardware") == hw and t.get("vmm") == vmm
    res.check(f"{case.name}: totals equal the sums of the entries", ok, f"totals={t} sums=hardware {hw}, vmm {vmm}")


def print_health(res, case, doc):
    res.note(f"{case.name}: health={json.dumps(doc.get('health'), sort_keys=True)} notes={doc.get('notes')}")


# ---- the cases ----

def check_guest(res, case):
    """The guest alone: the workload is exact before kvmscope stat is involved."""
    if check_ran(res, case) and check_ref(res, case):
        expect_counts(res, f"{case.name} (hist)", case.ref.hw_counts(), {P.cpuid: 10000, P.io: 1000, P.hlt: 1000})
        vmm = case.ref.vmm
        res.check(f"{case.name} (hist): KVM_EXIT_IO 1000, KVM_EXIT_HLT 1000",
                  vmm.get(KVM_EXIT_IO) == 1000 and vmm.get(KVM_EXIT_HLT) == 1000, f"got {vmm}")


def check_a(res, case):
    doc = json_case(res, case)
    if doc is None:
        return
    wanted = {P.cpuid: 10000, P.io: 1000, P.hlt: 1000}
    hw = counts_of(doc, "hardware")
    vcpus = sorted({e.get("vcpu") for e in doc.get("exits", [])}, key=str)
    # stat --json keys every entry by vCPU whatever the text breakdown (docs/json-schema.md: the
    # tracepoint's vcpu_id, null only where never seen): one vCPU, so vCPU 0 throughout.
    res.check(f"{case.name}: every entry on vCPU 0 (the guest's only vCPU)", vcpus == [0], f"vcpus {vcpus}")
    expect_counts(res, f"{case.name} hardware", hw, wanted)
    check_names(res, case, doc, set(wanted))
    check_timing(res, case, doc, set(wanted), vcpus)
    vmm = counts_of(doc, "vmm")
    for code, name in ((KVM_EXIT_IO, "KVM_EXIT_IO"), (KVM_EXIT_HLT, "KVM_EXIT_HLT")):
        res.check(f"{case.name} vmm: {name} ({code}) count 1000", vmm.get(code, 0) == 1000, f"got {vmm.get(code, 0)}")
    check_totals(res, case, doc)
    check_vs_ref(res, case, case.name, counts_of(doc, "hardware"))
    check_vmm_vs_ref(res, case, doc)
    print_health(res, case, doc)


BLOCK_HDR = re.compile(r"^--- kvmscope: (\d+) exits\b")
HW_LINE = re.compile(r"^kvm exit (0x[0-9a-f]+|\d+) \((.*)\): (\d+)$")
VMM_LINE = re.compile(r"^kvm userspace exit (\d+) \((.*)\): (\d+)$")


def parse_every(text):
    """[(header_total, {code: n}, {vmm_code: n}, bad_lines)], in stdout order. A block is a header
    and the 'kvm ...' lines under it; any other line ends it."""
    blocks, cur = [], None
    for line in text.splitlines():
        m = BLOCK_HDR.match(line)
        if m:
            cur = (int(m.group(1)), {}, {}, [])
            blocks.append(cur)
            continue
        if cur is None:
            continue
        if (m := HW_LINE.match(line)):
            cur[1][int(m.group(1), 0)] = int(m.group(3))
        elif (m := VMM_LINE.match(line)):
            cur[2][int(m.group(1))] = int(m.group(3))
        elif line.startswith("kvm "):
            cur[3].append(line)
        else:
            cur = None
    return blocks


def table_count(text, code):
    """The final counts when no final block is printed: the number after the reason's name and
    code on a table row (thousands separators allowed)."""
    m = re.search(rf"^\s*{re.escape(name_of(code))}\s+{re.escape(ct(code))}\s+(\d[\d,'_]*)", text, re.M)
    return int(re.sub(r"[,'_]", "", m.group(1))) if m else None


def check_b(res, case, every=1000):
    if not check_ran(res, case):
        return
    wanted = {P.cpuid: 3000, P.io: 500, P.hlt: 500}
    text = case.stat or ""
    blocks = parse_every(text)
    total = case.ref.total if check_ref(res, case) else None
    periodic, final = list(blocks), None
    # The final state is a last block off the grid, a repeat of the last header, or (when the
    # total is itself a multiple of N) the last periodic block.
    if blocks and (blocks[-1][0] % every or (len(blocks) > 1 and blocks[-1][0] == blocks[-2][0])):
        final = periodic.pop()
    elif blocks and total is not None and blocks[-1][0] == total:
        final = blocks[-1]
    if total is None and final:
        total = final[0]
    res.note(f"{case.name}: {len(blocks)} blocks, headers {[b[0] for b in blocks]}, total hardware exits {total}")
    if total is not None:
        n = total // every
        heads = [b[0] for b in periodic]
        res.check(f"{case.name}: floor(total/{every}) blocks at {every}, {2 * every}, ...",
                  heads == [every * (i + 1) for i in range(n)], f"want {n} blocks, headers {heads}")
    bad = [f"block {h}: hardware lines sum {sum(hw.values())}" + (f", +vmm {sum(vm.values())}" if vm else "")
           for h, hw, vm, _ in blocks if sum(hw.values()) != h]
    res.check(f"{case.name}: each block's 'kvm exit' lines sum to its header total", blocks and not bad,
              "; ".join(bad[:4]) or ("no blocks" if not blocks else ""))
    junk = [line for b in blocks for line in b[3]]
    res.check(f"{case.name}: block lines are 'kvm exit {ct(P.io)} (name): N' or 'kvm userspace exit N (name): N'",
              not junk, "; ".join(junk[:3]))
    mono = all(all(b2[1].get(c, 0) >= n for c, n in b1[1].items()) for b1, b2 in zip(blocks, blocks[1:]))
    res.check(f"{case.name}: per-reason counts never decrease from block to block", mono)
    cpuid_line = f"kvm exit {ct(P.cpuid)} ({name_of(P.cpuid)}): {wanted[P.cpuid]}"
    res.check(f"{case.name}: {case.name}.stat has the line '{cpuid_line}'", cpuid_line in text.splitlines())
    if final:
        res.note(f"{case.name}: final counts from the last block (header {final[0]})")
        expect_counts(res, f"{case.name} final", final[1], wanted)
        for code, n in ((KVM_EXIT_IO, 500), (KVM_EXIT_HLT, 500)):
            if final[2]:
                res.check(f"{case.name} final: kvm userspace exit {code} count {n}", final[2].get(code, 0) == n,
                          f"got {final[2].get(code, 0)}")
        check_vs_ref(res, case, f"{case.name} final", final[1])
    else:
        got = {c: table_count(text, c) for c in set(wanted) | set(case.ref.hw_counts())}
        res.note(f"{case.name}: no final block; final counts from the table rows")
        expect_counts(res, f"{case.name} final (table)", {c: n for c, n in got.items() if n is not None}, wanted)
        check_vs_ref(res, case, f"{case.name} final (table)", {c: n for c, n in got.items() if n is not None})


def check_c(res, case):
    doc = json_case(res, case)
    if doc is None:
        return
    wanted = {P.cpuid: 3000, P.io: 200, P.hlt: 100}
    vcpus = sorted({e.get("vcpu") for e in doc.get("exits", []) if e.get("level") == "hardware"}, key=str)
    res.check(f"{case.name}: hardware exits split into vcpu 0 and vcpu 1", vcpus == [0, 1], f"vcpus {vcpus}")
    for v in (0, 1):
        expect_counts(res, f"{case.name} vcpu {v}", counts_of(doc, "hardware", vcpu=v), wanted)
        check_vs_ref(res, case, f"{case.name} vcpu {v}", counts_of(doc, "hardware", vcpu=v), vcpu=v)
    check_timing(res, case, doc, set(wanted), [0, 1])
    vmm_vcpus = sorted({e.get("vcpu") for e in doc.get("exits", []) if e.get("level") == "vmm"}, key=str)
    if vmm_vcpus == [0, 1]:
        for v in (0, 1):
            vmm = counts_of(doc, "vmm", vcpu=v)
            res.check(f"{case.name} vmm vcpu {v}: IO 200, HLT 100",
                      vmm.get(KVM_EXIT_IO) == 200 and vmm.get(KVM_EXIT_HLT) == 100, f"got {vmm}")
    else:
        vmm = counts_of(doc, "vmm")
        res.check(f"{case.name} vmm (vcpus {vmm_vcpus}): IO 400, HLT 200 in all",
                  vmm.get(KVM_EXIT_IO) == 400 and vmm.get(KVM_EXIT_HLT) == 200, f"got {vmm}")
    check_totals(res, case, doc)
    check_vmm_vs_ref(res, case, doc)
    print_health(res, case, doc)


def check_d(res, case):
    doc = json_case(res, case)
    if doc is None:
        return
    expect_counts(res, f"{case.name} hardware", counts_of(doc, "hardware"), {P.hypercall: 500})
    check_names(res, case, doc, {P.hypercall})
    check_totals(res, case, doc)
    check_vs_ref(res, case, case.name, counts_of(doc, "hardware"))
    check_vmm_vs_ref(res, case, doc)
    print_health(res, case, doc)


def check_e(res, case):
    if not check_ran(res, case):
        return
    text = case.stat or ""
    name, code = name_of(P.cpuid), ct(P.cpuid)
    res.check(f"{case.name}: table has the row {name} {code} 10,000",
              re.search(rf"^{re.escape(name)}\s+{re.escape(code)}\s+10[,' _]?000\b", text, re.M) is not None)
    res.check(f"{case.name}: stdout is the command's own, without the table",
              "Hardware exits" not in (case.stdout or ""))
    print(f"----- {case.name}.stat -----")
    print(text.rstrip())
    print("-----")


def check_f(res, case):
    """MSR reads and writes handled in KVM; MMIO writes to a GPA without memory, handed to the VMM."""
    doc = json_case(res, case)
    if doc is None:
        return
    hw = counts_of(doc, "hardware")
    msr = {P.msr_read: 500}
    msr[P.msr_write] = msr.get(P.msr_write, 0) + 500  # SVM: one MSR exit for both directions
    expect_counts(res, f"{case.name} hardware", hw, msr)
    mmio_codes = sorted({P.mmio, P.mmio_first})
    mmio = sum(hw.get(c, 0) for c in mmio_codes)
    res.check(f"{case.name} hardware: MMIO exits ({'+'.join(name_of(c) for c in mmio_codes)}) at least 500",
              mmio >= 500, f"got {mmio}")
    if P.mmio != P.mmio_first:
        # VMX with EPT: the first write faults (EPT_VIOLATION, with the first touches of RAM) and
        # KVM caches the GPA as MMIO in a deliberately misconfigured EPT entry; every later
        # write exits as EPT_MISCONFIG.
        res.check(f"{case.name} hardware: {name_of(P.mmio)} ({ct(P.mmio)}) count 499, the first MMIO write "
                  f"being an {name_of(P.mmio_first)}", hw.get(P.mmio, 0) == 499, f"got {hw.get(P.mmio, 0)}")
    vmm = counts_of(doc, "vmm")
    res.check(f"{case.name} vmm: KVM_EXIT_MMIO ({KVM_EXIT_MMIO}) count 500", vmm.get(KVM_EXIT_MMIO, 0) == 500,
              f"got {vmm}")
    check_names(res, case, doc, set(msr) | set(mmio_codes))
    check_timing(res, case, doc, set(msr), sorted({e.get("vcpu") for e in doc.get("exits", [])}, key=str))
    check_totals(res, case, doc)
    check_vs_ref(res, case, case.name, hw)
    check_vmm_vs_ref(res, case, doc)
    print_health(res, case, doc)


# g-drill's plan (l1-tests.sh): what each drill-down must show, exactly.
G_PLAN = {"cpuid": 700, "io": 300, "msr_read": 200, "msr_write": 100, "hypercall": 50, "mmio": 40}
G_PORT, G_MSR, G_GPA, G_NR = 0x10, 0x1A0, 0xA0000, 0x4B53


def drill_rows(doc):
    """{kind: {(value, detail): count}} of stat's drill-downs (a hypercall's detail is its name,
    which an unknown nr lacks: there the key's detail is None)."""
    out = {}
    for d in doc.get("drilldowns") or []:
        kind = d.get("kind")
        rows = out.setdefault(kind, {})
        for r in d.get("rows", []):
            key = (r.get("value"), None if kind == "hypercall" else r.get("detail"))
            rows[key] = rows.get(key, 0) + r.get("count", 0)
    return out


def check_g(res, case):
    """Drill-downs (--by port,mmio,msr,cpuid,hypercall): every row of the plan, nothing else."""
    doc = json_case(res, case)
    if doc is None:
        return
    got = drill_rows(doc)
    wanted = {"port": {(G_PORT, "out, 1 byte"): G_PLAN["io"]},
              "mmio": {(G_GPA, "write"): G_PLAN["mmio"]},
              "msr": {(G_MSR, "read"): G_PLAN["msr_read"], (G_MSR, "write"): G_PLAN["msr_write"]},
              "cpuid": {(0, ""): G_PLAN["cpuid"]},
              "hypercall": {(G_NR, None): G_PLAN["hypercall"]}}
    for kind, rows in wanted.items():
        res.check(f"{case.name}: --by {kind} rows exactly "
                  + ", ".join(f"{hex(v)}{'' if d is None else ' ' + d}={n}" for (v, d), n in rows.items()),
                  got.get(kind) == rows, f"got {got.get(kind)}")
    hw = counts_of(doc, "hardware")
    check_names(res, case, doc, {P.cpuid, P.io, P.msr_read, P.msr_write, P.hypercall})
    check_vs_ref(res, case, case.name, hw)
    check_vmm_vs_ref(res, case, doc)


def check_h(res, case):
    """record, then report --json of that recording in L1: the report's counts are the kernel's."""
    doc = json_case(res, case, schema="kvmscope.report/1")
    if doc is None:
        return
    rec = doc.get("recording") or {}
    res.check(f"{case.name}: the recording is complete, nothing lost",
              rec.get("complete") is True and rec.get("lost_events") == 0,
              f"complete={rec.get('complete')} lost_events={rec.get('lost_events')}")
    hw = counts_of(doc, "hardware")
    expect_counts(res, f"{case.name} hardware", hw, {P.cpuid: 2000, P.io: 300, P.hlt: 300})
    check_names(res, case, doc, {P.cpuid, P.io, P.hlt})
    check_vs_ref(res, case, case.name, hw)
    check_vmm_vs_ref(res, case, doc)


# Live percentiles (the kernel's log-linear histogram: the middle of a slot, within 6.25 %) against
# report's exact ones from a recording of the same run, per hardware reason with the same timed
# exits in both (equal counts). The rule: p50 within 12.5 % for every reason with >= PCT_MIN_TIMED
# timed exits, on every bed; p99 within 12.5 % for reasons with >= PCT_MIN_TIMED_P99 (at least 9
# exits beyond it: fewer make p99 one of a handful of outliers) where L1's clock counts
# instructions (the Bochs VMX bed; the SVM bed under KS_NESTED_ICOUNT, whose runner writes
# l1-clock.txt); else the case fails. Other p99s are shown, and one beyond 12.5 % is a warning.
# Why: both tracers stamp on the same classic tracepoints (stat runs with
# KVMSCOPE_TRACEPOINTS=classic, as record always is; stat -v must say so), so they time the same
# exits but from different points: stat runs record, so its programs were attached first and run
# first at kvm_exit and at kvm_entry alike, and its interval is record's shifted by the difference
# of what runs between the two tracers' stamps at each end (SVM bed under TCG, 8 runs: cpuid p50
# -3 to +6 %, every p50 within 6.4 %; with record first cpuid p50 -3 to -11 %, see l1-tests.sh). Under TCG on host time a host
# preemption of the emulator lands now and then between the two stamps at one end of an exit
# (microseconds apart there) and moves that exit across the p99 boundary for one tracer only:
# cpuid p99 +15.1 % and +13.9 % in 2 of 12 SVM runs. With 400 HLT exits on an instruction clock,
# p99 (the 4th slowest) once came out +12.3 %.
PCT_TOLERANCE = 0.125
PCT_MIN_TIMED = 200
PCT_MIN_TIMED_P99 = 900
K_HOOKS = "hardware exits: kvm:kvm_exit and kvm:kvm_entry (classic tracepoints"
K_PLAN = (3000, 1000, 1000)  # l1-tests.sh k-pct: guest --cpuid 3000 --io 1000 --hlt 1000


def check_k(res, case):
    """The same run under stat (live) and record + report (exact): p50/p99 per hardware reason."""
    live = json_case(res, case)
    if live is None:
        return
    res.check(f"{case.name}: stat ran on the classic tracepoints, as record does (stat -v)",
              K_HOOKS in (case.stderr or ""), (case.stderr or "").strip()[-300:] or "empty stderr")
    text = read(case.outdir, case.name + ".report")
    try:
        exact = json.loads(text) if text else None
    except ValueError:
        exact = None
    if not res.check(f"{case.name}: report --json of the recording wrote its document",
                     isinstance(exact, dict) and exact.get("schema") == "kvmscope.report/1",
                     "" if exact else f"no or bad {case.name}.report"):
        return
    hw = counts_of(live, "hardware")
    expect_counts(res, f"{case.name} hardware", hw, {P.cpuid: K_PLAN[0], P.io: K_PLAN[1], P.hlt: K_PLAN[2]})

    def by_code(doc):
        out = {}
        for e in doc.get("exits", []):
            if e.get("level") == "hardware":
                out.setdefault(e.get("code"), []).append(e)
        return out

    ex_by = by_code(exact)
    clock = "instructions" if P.name == "vmx" else (read(case.outdir, "l1-clock.txt") or "host").strip()
    compared, apart, tails = [], [], []
    for code, entries in sorted(by_code(live).items()):
        if len(entries) != 1 or len(ex_by.get(code, [])) != 1:
            continue  # one VM, one vCPU: one entry each
        a, b = entries[0], ex_by[code][0]
        if a.get("timed", 0) < PCT_MIN_TIMED or a.get("timed") != b.get("timed"):
            continue
        for field in ("p50_ns", "p99_ns"):
            got, want = a.get(field), b.get(field)
            if not isinstance(got, int) or not isinstance(want, int) or want <= 0:
                apart.append(f"{ct(code)} {field} live={got} exact={want}")
                continue
            err = (got - want) / want
            text = f"{ct(code)} {field} {got}/{want} ({100 * err:+.1f}%)"
            compared.append(text)
            held = field == "p50_ns" or (clock == "instructions" and a["timed"] >= PCT_MIN_TIMED_P99)
            if abs(err) > PCT_TOLERANCE:
                (apart if held else tails).append(text)
    res.check(f"{case.name}: live and exact percentiles were compared "
              f"(reasons with >= {PCT_MIN_TIMED} timed exits)", bool(compared),
              "" if compared else "nothing to compare")
    if compared:
        held = (f"p50, and p99 with >= {PCT_MIN_TIMED_P99} timed exits," if clock == "instructions"
                else "p50 (p99: L1 on host time)")
        res.check(f"{case.name}: live {held} within {100 * PCT_TOLERANCE:g} % of report's exact ones, "
                  f"L1 clock {clock} ({'; '.join(compared)})", not apart, "; ".join(apart))
    if tails:
        res.warn(f"{case.name}: a live p99 not held beyond {100 * PCT_TOLERANCE:g} % of report's (L1 on host "
                 f"time, or too few exits beyond it)", "; ".join(tails))


def rip_counts(rows):
    """{(exit_reason, guest_rip): hitcount} of a hist keyed exit_reason,guest_rip (parse_hist's rows)."""
    out = {}
    for keys, n in rows:
        k = (keys.get("exit_reason", 0) & MASK64, keys.get("guest_rip", 0) & MASK64)
        out[k] = out.get(k, 0) + n
    return out


def count_diff(got, ref):
    """{key: (got, ref)} where the two counts differ (a key missing on one side counts 0)."""
    return {k: (got.get(k, 0), ref.get(k, 0)) for k in set(ref) | set(got) if got.get(k, 0) != ref.get(k, 0)}


def guest_sites_of(doc, pid=None):
    """{(code, rip): count} of a guest-code part (stat's or report's; of every VM, or of VM pid),
    and its VMs."""
    out, vms = {}, (doc.get("guest_code") or {}).get("vms", [])
    for vm in vms:
        if pid is not None and vm.get("pid") != pid:
            continue
        for r in vm.get("reasons", []):
            if r.get("level") != "hardware":
                continue
            for f in r.get("functions", []):
                for site in f.get("sites", []):
                    key = (r.get("code"), int(site.get("rip", "0"), 16))
                    out[key] = out.get(key, 0) + site.get("count", 0)
    return out, vms


def check_l(res, case):
    """stat --by function,port: the exits the kernel counted per guest RIP, each (reason, RIP)
    equal to the kernel's hist keyed by exit_reason,guest_rip; the built-in guest runs no kernel,
    so every exit is firmware/early boot; the port drill-down beside it still exact."""
    doc = json_case(res, case)
    if doc is None:
        return
    hw = counts_of(doc, "hardware")
    check_vs_ref(res, case, case.name, hw)
    riphist = parse_hist(read(case.outdir, case.name + ".rhist"))
    if not res.check(f"{case.name}: the kernel's hist by exit_reason,guest_rip is complete",
                     riphist is not None and riphist[2] == 0 and riphist[0],
                     "missing" if riphist is None else f"hits={riphist[1]} dropped={riphist[2]}"):
        return
    ref = rip_counts(riphist[0])
    got, vms = guest_sites_of(doc)
    diff = count_diff(got, ref)
    res.check(f"{case.name}: every (reason, guest RIP) count ({len(ref)} of them) equals the kernel's hist",
              not diff, "kvmscope/hist " + ", ".join(f"{ct(c)}@{hex(r)}={a}/{b}" for (c, r), (a, b) in
                                                      sorted(diff.items())[:8]))
    code = doc.get("guest_code") or {}
    spaces = [vm.get("exits", {}) for vm in vms]
    res.check(f"{case.name}: one VM, all {sum(hw.values())} hardware exits firmware/early boot (no guest kernel), "
              "none at RIPs not stored",
              len(vms) == 1 and spaces[0].get("early") == sum(hw.values()) and spaces[0].get("kernel") == 0
              and spaces[0].get("user") == 0 and spaces[0].get("other") == 0 and code.get("sites_not_stored") == 0,
              f"{spaces} sites_not_stored={code.get('sites_not_stored')}")
    port = drill_rows(doc).get("port")
    res.check(f"{case.name}: --by port beside function: port {hex(G_PORT)} out, 1 byte = 300", port == {(G_PORT, "out, 1 byte"): 300},
              f"got {port}")


M_NO_RUN_HOOK = "their vCPU from the thread's last kvm_exit (no KVM_RUN hook)"
M_PLAN = (2000, 300, 300)  # l1-tests.sh m-counts: guest --vcpus 2 --cpuid 2000 --io 300 --hlt 300


def check_m(res, case):
    """stat --counts-only on a two-vCPU guest: every hardware and VMM count equals the kernel's,
    per vCPU (the exits to the VMM take their vCPU from their thread's kvm_exit: no KVM_RUN hook;
    the two vCPU threads share L1's one CPU, so they take turns in its slot cache), and nothing is
    timed (no kvm_entry program, no clock read)."""
    doc = json_case(res, case)
    if doc is None:
        return
    for v in (0, 1):
        hw = counts_of(doc, "hardware", vcpu=v)
        expect_counts(res, f"{case.name} hardware vcpu {v}", hw, {P.cpuid: M_PLAN[0], P.io: M_PLAN[1], P.hlt: M_PLAN[2]})
        check_vs_ref(res, case, f"{case.name} vcpu {v}", hw, vcpu=v)
        vmm = counts_of(doc, "vmm", vcpu=v)
        res.check(f"{case.name} vmm vcpu {v}: IO {M_PLAN[1]}, HLT {M_PLAN[2]}",
                  vmm.get(KVM_EXIT_IO) == M_PLAN[1] and vmm.get(KVM_EXIT_HLT) == M_PLAN[2], f"got {vmm}")
    check_vmm_vs_ref(res, case, doc)
    timed = {e.get("code"): e.get("timed") for e in doc.get("exits", []) if e.get("timed")}
    res.check(f"{case.name}: nothing timed (timed 0 in every entry)", not timed, f"timed {timed}")
    vcpus = sorted({(e.get("level"), e.get("vcpu")) for e in doc.get("exits", [])}, key=str)
    res.check(f"{case.name}: every exit, hardware and VMM, is of vcpu 0 or 1",
              vcpus == [("hardware", 0), ("hardware", 1), ("vmm", 0), ("vmm", 1)], f"(level, vcpu) {vcpus}")
    res.check(f"{case.name}: stat -v says the KVM_RUN hook was left out",
              M_NO_RUN_HOOK in (case.stderr or ""), (case.stderr or "").strip()[-300:] or "empty stderr")


def check_hooks(res, outdir):
    """The cases ran on the hooks asked for (kstp): stat --verbose names them."""
    mode = (read(outdir, "tracepoints.txt") or "").strip()
    hooks = (read(outdir, "hooks.txt") or "").strip()
    print(f"hooks (kstp={mode or '?'}): {hooks}")
    want = {"btf": "tp_btf/kvm_exit", "classic": "kvm:kvm_exit"}.get(mode)
    if want is None:
        res.check("L1 said which hooks it asked for (tracepoints.txt: btf or classic)", False, repr(mode))
        return
    res.check(f"the cases ran on the {mode} hooks ({want})", want in hooks, hooks or "no hooks.txt")
    # Exits to the VMM and the drill-down events (stat --by all -v): on their raw tracepoints
    # where the hardware exits are (L1's kernel has them all as kvmscope reads them), else classic.
    others = {"btf": (r"exits to the VMM: tp_btf/kvm_userspace_exit(;|,|$)", r"drill-down events: tp_btf(;|$)"),
              "classic": (r"exits to the VMM: kvm:kvm_userspace_exit \(classic",
                          r"drill-down events: classic tracepoints")}[mode]
    for what in others:
        res.check(f"{what.split(':')[0]} ran on the {mode} hooks too", re.search(what, hooks, re.M) is not None,
                  hooks or "no hooks.txt")


# ---- the live views: top --batch and serve, watched while a guest ran (observe_case) ----

def check_view_ran(res, case):
    """The view ran, was stopped by SIGINT and exited 0; the guest it watched exited 0."""
    if not check_ran(res, case):
        return False
    grc = (case.extra("guest-rc") or "").strip()
    ok = res.check(f"{case.name}: the watched guest exited 0", grc == "0",
                   f"rc={grc or 'none'}: " + " | ".join((case.extra("guest") or "").strip().splitlines()[-3:]))
    check_ref(res, case)
    return ok


TOP_FRAME = "kvmscope top  "
TOP_VM = re.compile(r"^VM (.*)  pid (\d+)(?:  process .*)?  vCPUs (\d+)(  ended)?$")
TOP_REASON = re.compile(r"^(hw|vmm)\s+(.+?)\s+(0x[0-9a-f]+|-?\d+)\s+[\d,.]+\s+([\d,]+)\s+[\d.]+%")


def parse_top(text):
    """top --batch frames: [{"lines": [...], "vms": {pid: {"ended": bool, "rows": [(level, name,
    code, count)]}}}] in output order."""
    frames = []
    for line in text.splitlines():
        if line.startswith(TOP_FRAME):
            frames.append({"lines": [], "vms": {}})
            vm = None
        if not frames:
            continue
        frames[-1]["lines"].append(line)
        if (m := TOP_VM.match(line)):
            vm = frames[-1]["vms"].setdefault(int(m.group(2)), {"ended": bool(m.group(4)), "rows": []})
        elif not line.strip():
            vm = None
        elif vm is not None and (m := TOP_REASON.match(line)):
            vm["rows"].append((m.group(1), m.group(2), int(m.group(3), 0), int(m.group(4).replace(",", ""))))
    return frames


def check_i(res, case):
    """top --batch -a while a guest ran: the guest VM's last frame after it ended holds the final
    count of every reason, the kernel's."""
    if not check_view_ran(res, case):
        return
    frames = parse_top(case.stdout or "")
    ended = [(f, pid, vm) for f in frames for pid, vm in f["vms"].items() if vm["ended"]]
    pids = {pid for f in frames for pid in f["vms"]}
    res.check(f"{case.name}: frames show one VM, and it ended (2 frames or more)", len(pids) == 1 and len(ended) >= 2,
              f"{len(frames)} frames, VM pids {sorted(pids)}, {len(ended)} frames with the VM ended")
    warns = [line for f in frames for line in f["lines"] if line.startswith("warning:")]
    res.check(f"{case.name}: no frame warns of lost or unattributed exits", not warns, "; ".join(warns[:2]))
    if not ended:
        return
    rows = ended[-1][2]["rows"]
    hw, vmm, names = {}, {}, {}
    for level, name, code, n in rows:
        (hw if level == "hw" else vmm)[code] = n
        if level == "hw":
            names[code] = name
    wanted = {P.cpuid: 2000, P.io: 300, P.hlt: 300}
    expect_counts(res, f"{case.name} last frame", hw, wanted)
    bad = {c: n for c, n in names.items() if n != NAMES.get(c)}
    res.check(f"{case.name}: reason names from the kernel's table", names and not bad,
              ", ".join(f"{ct(c)}={n!r} (kernel {NAMES.get(c)!r})" for c, n in sorted(names.items())))
    check_vs_ref(res, case, f"{case.name} last frame", hw)
    if case.ref.ok:
        res.check(f"{case.name}: every VMM exit count equals the kernel's hist", vmm == case.ref.vmm,
                  f"top {vmm}; hist {case.ref.vmm}")


PROM_SAMPLE = re.compile(r'^(\w+)\{(.*)\} (\d+)$')
PROM_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{family: [({label: value}, int)]} of the labelled integer samples; {name: int} unlabelled."""
    fams, plain = {}, {}
    for line in (text or "").splitlines():
        if (m := PROM_SAMPLE.match(line)):
            fams.setdefault(m.group(1), []).append((dict(PROM_LABEL.findall(m.group(2))), int(m.group(3))))
        elif line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            if value.isdigit():
                plain[name] = int(value)
    return fams, plain


def check_j(res, case):
    """serve (the dynamic build) scraped after a guest ran: kvmscope_exits_total per reason and
    the port and MSR counters equal the kernel's counts."""
    if case.extra("missing") is not None:
        res.check(f"{case.name}: L1 has the dynamic kvmscope (bin/kvmscope-serve)", False, case.extra("missing").strip())
        return
    if not check_view_ran(res, case):
        return
    text = case.extra("metrics")
    if not res.check(f"{case.name}: wget scraped /metrics", text, "" if text else "no j-serve.metrics"):
        return
    fams, plain = parse_metrics(text)
    exits = fams.get("kvmscope_exits_total", [])
    pids = {lb.get("vm_pid") for lb, _ in exits}
    res.check(f"{case.name}: kvmscope_exits_total of one VM", len(pids) == 1, f"vm_pids {sorted(map(str, pids))}")
    hw, vmm, bad = {}, {}, []
    for lb, n in exits:
        code = int(lb.get("code", "x"), 0) if re.fullmatch(r"-?(0x[0-9a-f]+|\d+)", lb.get("code", "")) else None
        if lb.get("level") == "hardware":
            if lb.get("isa") != P.name or code is None or lb.get("code") != ct(code) or lb.get("reason") != NAMES.get(code):
                bad.append(str(lb))
            else:
                hw[code] = hw.get(code, 0) + n
        elif lb.get("level") == "vmm" and code is not None:
            vmm[code] = vmm.get(code, 0) + n
        else:
            bad.append(str(lb))
    res.check(f"{case.name}: hardware series carry isa {P.name}, code {ct(P.cpuid)!r} style and the kernel's "
              "names; the rest are vmm", exits and not bad, "; ".join(bad[:3]))
    expect_counts(res, f"{case.name} metrics", hw, {P.cpuid: 2000, P.io: 300, P.msr_read: 200, P.hlt: 100})
    check_vs_ref(res, case, f"{case.name} metrics", hw)
    if case.ref.ok:
        res.check(f"{case.name}: every VMM exit count equals the kernel's hist", vmm == case.ref.vmm,
                  f"metrics {vmm}; hist {case.ref.vmm}")
    pio = {(lb.get("port"), lb.get("direction"), lb.get("size")): n for lb, n in fams.get("kvmscope_pio_total", [])}
    res.check(f"{case.name}: kvmscope_pio_total exactly port 0x10 out size 1 = 300",
              pio == {(hex(G_PORT), "out", "1"): 300}, f"got {pio}")
    msr = {(lb.get("msr"), lb.get("access")): n for lb, n in fams.get("kvmscope_msr_total", [])}
    res.check(f"{case.name}: kvmscope_msr_total exactly 0x1a0 read = 200", msr == {(hex(G_MSR), "read"): 200},
              f"got {msr}")
    health = {k: v for k, v in plain.items() if k.startswith("kvmscope_collector_")}
    res.check(f"{case.name}: the collector's health counters are all 0", health and not any(health.values()),
              f"{health}")


CASES = (("guest", check_guest), ("a-json", check_a), ("b-every", check_b),
         ("c-vcpus", check_c), ("d-vmcall", check_d), ("e-table", check_e), ("f-msr-mmio", check_f),
         ("g-drill", check_g), ("h-record", check_h), ("i-top", check_i), ("j-serve", check_j),
         ("k-pct", check_k), ("l-func", check_l),
         ("m-counts", check_m))


def run_checks(outdir):
    global P, NAMES
    res = Results()
    info = (read(outdir, "l1-info.txt") or "?").strip().replace("\n", "; ")
    version = (read(outdir, "version.txt") or "?").strip()
    isa = (read(outdir, "isa.txt") or "?").strip()
    print(f"L1: {info}; kvm for {isa}; kvmscope --version: {version}")
    if not res.check("L1 loaded kvm_intel or kvm_amd (isa.txt)", isa in exit_isa.PROFILES, f"isa.txt: {isa!r}"):
        return res
    P = exit_isa.PROFILES[isa]
    tables = exit_isa.kernel_tables(read(outdir, "kvm_exit.format"))
    res.check("the running kernel's kvm_exit format has its VMX and SVM reason tables", tables,
              "" if tables else "kvm_exit.format missing or without __print_symbolic tables")
    NAMES = tables[P.name] if tables else dict(P.builtin_names)
    expected = (read(outdir, "cases.txt") or "").split()
    selected = [(n, f) for n, f in CASES if n in expected]
    if not res.check("L1 named the cases it would run", selected, "" if selected else f"no cases.txt in {outdir}"):
        return res
    check_hooks(res, outdir)
    res.check("L1 finished every case", read(outdir, "done.txt") is not None,
              "no done.txt: L1 hung or died before the end" if read(outdir, "done.txt") is None else "")
    for name, fn in selected:
        fn(res, Case(outdir, name))
    n_fail = len(res.failed)
    print(f"SUMMARY: {len(res.rows) - n_fail} passed, {n_fail} failed, {len(res.warnings)} warnings "
          f"(cases: {', '.join(n for n, _ in selected)})")
    if n_fail:
        print("FAILED: " + "; ".join(r[0] for r in res.failed))
    return res


# ---- self test: made-up outputs in the formats seen from L1, for each ISA ----

HERE = os.path.dirname(os.path.abspath(__file__))
# A real 6.1 kvm_exit format (captured in the SVM bed; the same kernel serves the VMX bed).
FORMAT_FIXTURE = os.path.join(HERE, "..", "fixtures", "tracefs-6.1-svm", "kvm_exit.format")


def _entry(pid, vcpu, level, code, count, name=None, untimed=False):
    timed = count - 1 if untimed else count
    if name is None:
        name = name_of(code)
    return {"vm_pid": pid, "vcpu": vcpu, "level": level, "isa": P.name if level == "hardware" else "none",
            "code": code, "code_text": ct(code) if level == "hardware" else str(code), "reason": name,
            "count": count, "timed": timed, "time_ns": 1000 * timed, "avg_ns": 1000,
            "p50_ns": 1024, "p99_ns": 2048, "max_ns": 3000, "hist_log2_ns": [0] * 10 + [timed]}


def _doc(exits, pid=4242):
    hw = sum(e["count"] for e in exits if e["level"] == "hardware")
    vmm = sum(e["count"] for e in exits if e["level"] == "vmm")
    return {"schema": "kvmscope.stat/1", "target": "command: kvmscope guest", "duration_s": 1.5,
            "names": {}, "totals": {"hardware": hw, "vmm": vmm}, "health": {"lost": 0},
            "vms": [{"pid": pid, "name": None, "comm": "kvmscope"}], "exits": exits, "notes": []}


def make_hist(rows, fields):
    """A tracefs hist file for the self-tests; rows: [(key values..., hitcount)]."""
    out = ["# event histogram", "#", f"# trigger info: hist:keys={','.join(fields)}:vals=hitcount:size=4096 [active]", "#", ""]
    for row in rows:
        keys = ", ".join(f"{f}: {v:>10}" for f, v in zip(fields, row[:-1]))
        out.append(f"{{ {keys} }} hitcount: {row[-1]:>10}")
    out += ["", "Totals:", f"    Hits: {sum(r[-1] for r in rows)}", f"    Entries: {len(rows)}", "    Dropped: 0", ""]
    return "\n".join(out)


def _ref(hw, vmm):
    """hw: {(vcpu, code): n}; vmm: {code: n} -> (.hist, .uhist) texts."""
    return (make_hist([(P.isa, c, v, n) for (v, c), n in sorted(hw.items())], ("isa", "exit_reason", "vcpu_id")),
            make_hist([(c, 0, n) for c, n in sorted(vmm.items())], ("reason", "errno")))


def _plan(cpuid, io_, hlt, vcpu, pid=4242, extras=True):
    ex = [_entry(pid, vcpu, "hardware", P.cpuid, cpuid), _entry(pid, vcpu, "hardware", P.io, io_),
          _entry(pid, vcpu, "hardware", P.hlt, hlt, untimed=True),
          _entry(pid, vcpu, "vmm", KVM_EXIT_IO, io_, "KVM_EXIT_IO"),
          _entry(pid, vcpu, "vmm", KVM_EXIT_HLT, hlt, "KVM_EXIT_HLT")]
    if extras:
        ex += [_entry(pid, vcpu, "hardware", P.timer, 7), _entry(pid, vcpu, "hardware", P.mmio_first, 1)]
    return ex


def _write_case(d, name, stdout, ref, rc=0, stat=None):
    files = [("cmd", f"kvmscope stat ... # {name}\n"), ("stdout", stdout), ("stderr", ""),
             ("rc", f"{rc}\n"), ("secs", "1.00\n"), ("hist", ref[0]), ("uhist", ref[1])]
    if stat is not None:
        files.append(("stat", stat))
    for ext, text in files:
        with open(os.path.join(d, f"{name}.{ext}"), "w", encoding="utf-8") as f:
            f.write(text)


def _table_row(code, n):
    return f"{name_of(code):<18} {ct(code):>5} {n:>7,}  1.0%"


def _every_text(counts, every=1000):
    """Blocks as kvmscope prints them: replay exits in a plausible order, a block at each crossing."""
    order, per = [], counts[P.cpuid] // counts[P.io]
    for _ in range(counts[P.io]):
        order += [P.cpuid] * per + [P.io, P.hlt]
    order[5:5] = [P.mmio_first]
    order += [P.timer] * counts[P.timer]
    cum, out = {}, []
    for i, code in enumerate(order, 1):
        cum[code] = cum.get(code, 0) + 1
        if i % every == 0:
            out.append(f"--- kvmscope: {i} exits at {i / 1e4:.3f} s ---")
            out += [f"kvm exit {ct(c)} ({name_of(c)}): {n}" for c, n in sorted(cum.items())]
    out += ["kvmscope guest: pid 300, 1 vCPU", "", "Hardware exits (kvm:kvm_exit)",
            "reason              code   count       %"]
    out += [_table_row(c, n) for c, n in sorted(cum.items())]
    return "\n".join(out) + "\n"


GUEST_TABLE = "kvmscope guest: pid 222, 1 vCPU\nkind  per vCPU  total\ncpuid  10,000  10,000\n"


def _good_outdir(d):
    with open(FORMAT_FIXTURE, encoding="utf-8") as f:
        fmt = f.read()
    hooks = ("kvmscope stat: hardware exits: tp_btf/kvm_exit and tp_btf/kvm_entry (BTF raw tracepoints); "
             "exits to the VMM: tp_btf/kvm_userspace_exit; drill-down events: tp_btf\n")
    for name, text in (("cases.txt", "\n".join(n for n, _ in CASES) + "\n"), ("done.txt", "9.5\n"),
                       ("isa.txt", P.name + "\n"), ("kvm_exit.format", fmt),
                       ("tracepoints.txt", "btf\n"), ("hooks.txt", hooks)):
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write(text)
    a_hw = {(0, P.cpuid): 10000, (0, P.io): 1000, (0, P.hlt): 1000, (0, P.timer): 7, (0, P.mmio_first): 1}
    vmm = {KVM_EXIT_IO: 1000, KVM_EXIT_HLT: 1000}
    _write_case(d, "guest", GUEST_TABLE, _ref({**a_hw, (0, P.timer): 3}, vmm))
    _write_case(d, "a-json", GUEST_TABLE, _ref(a_hw, vmm),
                stat=json.dumps(_doc(_plan(10000, 1000, 1000, 0)), indent=1) + "\n")
    bc = {P.cpuid: 3000, P.io: 500, P.hlt: 500, P.timer: 5, P.mmio_first: 1}
    _write_case(d, "b-every", GUEST_TABLE, _ref({(0, c): n for c, n in bc.items()}, {KVM_EXIT_IO: 500, KVM_EXIT_HLT: 500}),
                stat=_every_text(bc))
    c = _plan(3000, 200, 100, 0, extras=False) + _plan(3000, 200, 100, 1, extras=False)
    c_hw = {(v, code): n for v in (0, 1) for code, n in ((P.cpuid, 3000), (P.io, 200), (P.hlt, 100))}
    _write_case(d, "c-vcpus", GUEST_TABLE, _ref(c_hw, {KVM_EXIT_IO: 400, KVM_EXIT_HLT: 200}), stat=json.dumps(_doc(c)))
    dd = [_entry(4242, None, "hardware", P.hypercall, 500),
          _entry(4242, None, "hardware", P.hlt, 1, untimed=True),
          _entry(4242, None, "vmm", KVM_EXIT_HLT, 1, "KVM_EXIT_HLT"),
          {**_entry(4242, None, "vmm", 0x80000004, 1, "restart (EINTR)"), "code_text": "-4"}]
    hist, uhist = _ref({(0, P.hypercall): 500, (0, P.hlt): 1}, {KVM_EXIT_HLT: 1})
    uhist = uhist.replace("\n\nTotals:", "\n{ reason:         10, errno: 18446744073709551612 } hitcount:          1\n\nTotals:")
    _write_case(d, "d-vmcall", GUEST_TABLE, (hist, uhist), stat=json.dumps(_doc(dd)))
    _write_case(d, "e-table", GUEST_TABLE, _ref({(0, P.cpuid): 10000}, {}),
                stat="Hardware exits (kvm:kvm_exit)\nreason              code   count\n" + _table_row(P.cpuid, 10000) + "\n")
    f_hw = {P.msr_read: 500}
    f_hw[P.msr_write] = f_hw.get(P.msr_write, 0) + 500
    f_hw[P.mmio_first] = f_hw.get(P.mmio_first, 0) + 3
    f_hw[P.mmio] = f_hw.get(P.mmio, 0) + 499
    ff = [_entry(4242, None, "hardware", c, n, untimed=c == P.mmio) for c, n in sorted(f_hw.items())]
    ff.append(_entry(4242, None, "vmm", KVM_EXIT_MMIO, 500, "KVM_EXIT_MMIO"))
    _write_case(d, "f-msr-mmio", GUEST_TABLE, _ref({(0, c): n for c, n in f_hw.items()}, {KVM_EXIT_MMIO: 500}),
                stat=json.dumps(_doc(ff)))
    g_hw = {}
    for code, n in ((P.cpuid, 700), (P.io, 300), (P.msr_read, 200), (P.msr_write, 100), (P.hypercall, 50),
                    (P.mmio_first, 1), (P.mmio, 39), (P.hlt, 1)):
        g_hw[code] = g_hw.get(code, 0) + n
    g_vmm = {KVM_EXIT_IO: 300, KVM_EXIT_MMIO: 40, KVM_EXIT_HLT: 1}
    gd = _doc([_entry(4242, None, "hardware", c, n) for c, n in sorted(g_hw.items())]
              + [_entry(4242, None, "vmm", c, n, f"KVM_EXIT_{c}") for c, n in sorted(g_vmm.items())])
    gd["drilldowns"] = [{"kind": k, "vm_pid": None, "rows": [{"value": v, "detail": dt, "count": n} for v, dt, n in rows]}
                        for k, rows in (("port", [(G_PORT, "out, 1 byte", 300)]), ("mmio", [(G_GPA, "write", 40)]),
                                        ("msr", [(G_MSR, "read", 200), (G_MSR, "write", 100)]),
                                        ("cpuid", [(0, "", 700)]), ("hypercall", [(G_NR, "", 50)]))]
    _write_case(d, "g-drill", GUEST_TABLE, _ref({(0, c): n for c, n in g_hw.items()}, g_vmm), stat=json.dumps(gd))
    hd = _doc(_plan(2000, 300, 300, None))
    hd.update(schema="kvmscope.report/1", recording={"complete": True, "lost_events": 0})
    h_hw = {(0, P.cpuid): 2000, (0, P.io): 300, (0, P.hlt): 300, (0, P.timer): 7, (0, P.mmio_first): 1}
    _write_case(d, "h-record", "", _ref(h_hw, {KVM_EXIT_IO: 300, KVM_EXIT_HLT: 300}), stat=json.dumps(hd))
    k_hw = {(0, P.cpuid): K_PLAN[0], (0, P.io): K_PLAN[1], (0, P.hlt): K_PLAN[2], (0, P.timer): 7, (0, P.mmio_first): 1}
    _write_case(d, "k-pct", GUEST_TABLE, _ref(k_hw, {KVM_EXIT_IO: K_PLAN[1], KVM_EXIT_HLT: K_PLAN[2]}),
                stat=json.dumps(_doc(_plan(*K_PLAN, None))))
    with open(os.path.join(d, "l1-clock.txt"), "w", encoding="utf-8") as f:
        f.write("instructions\n")
    with open(os.path.join(d, "k-pct.stderr"), "w", encoding="utf-8") as f:
        f.write(f"kvmscope stat: {K_HOOKS}: KVMSCOPE_TRACEPOINTS=classic)\n")
    kdoc = _doc(_plan(*K_PLAN, None))
    kdoc["schema"] = "kvmscope.report/1"
    for e in kdoc["exits"]:
        e.update(p50_ns=1000, p99_ns=2000)  # live: 1024, 2048 (+2.4 %)
    with open(os.path.join(d, "k-pct.report"), "w", encoding="utf-8") as f:
        f.write(json.dumps(kdoc))
    l_hw = {P.cpuid: 700, P.io: 300, P.msr_read: 200, P.msr_write: 100, P.hlt: 50}
    ld = _doc([_entry(4242, None, "hardware", c, n) for c, n in sorted(l_hw.items())])
    ld["drilldowns"] = [{"kind": "port", "vm_pid": None, "rows": [{"value": G_PORT, "detail": "out, 1 byte", "count": 300}]}]
    rips = {c: 0x1000 + 0x10 * i for i, c in enumerate(sorted(l_hw))}
    ld["guest_code"] = {"symbols": "none", "sites_not_stored": 0, "vms": [{
        "pid": 4242, "exits": {"kernel": 0, "early": sum(l_hw.values()), "user": 0, "other": 0},
        "reasons": [{"level": "hardware", "code": c, "count": n, "functions": [
            {"function": "[firmware/early boot]", "sites": [{"rip": hex(rips[c]), "count": n}]}]}
            for c, n in sorted(l_hw.items())]}]}
    _write_case(d, "l-func", GUEST_TABLE, _ref({(0, c): n for c, n in l_hw.items()}, {}), stat=json.dumps(ld))
    with open(os.path.join(d, "l-func.rhist"), "w", encoding="utf-8") as f:
        f.write(make_hist([(c, rips[c], n) for c, n in sorted(l_hw.items())], ("exit_reason", "guest_rip")))
    m_hw = {(v, code): n for v in (0, 1) for code, n in zip((P.cpuid, P.io, P.hlt), M_PLAN)}
    m_hw[(0, P.timer)] = 7
    md = _doc(_plan(*M_PLAN, 0, extras=False) + _plan(*M_PLAN, 1, extras=False) +
              [_entry(4242, 0, "hardware", P.timer, 7)])
    for e in md["exits"]:
        e.update(timed=0, time_ns=0, avg_ns=0, p50_ns=0, p99_ns=0, max_ns=0, hist_log2_ns=[0] * 10)
    _write_case(d, "m-counts", GUEST_TABLE, _ref(m_hw, {KVM_EXIT_IO: 2 * M_PLAN[1], KVM_EXIT_HLT: 2 * M_PLAN[2]}),
                stat=json.dumps(md))
    with open(os.path.join(d, "m-counts.stderr"), "w", encoding="utf-8") as f:
        f.write(f"kvmscope stat: hardware exits: tp_btf/kvm_exit (...); counts only, no handling times; exits to the VMM: tp_btf/kvm_userspace_exit, {M_NO_RUN_HOOK}\n")
    _good_views(d)


def _top_frame(hw, vmm, ended, pid=4242):
    """One top --batch frame with the guest's VM (as tui/top_frame.cpp writes it)."""
    rows = [("hw", c, n) for c, n in sorted(hw.items())] + [("vmm", c, n) for c, n in sorted(vmm.items())]
    total = sum(n for _, _, n in rows)
    out = ["kvmscope top  12:00:01  all VMs on this host  refresh 1.0 s  sort: rate",
           "VMs: 1  exits/s: 0.00  hardware/s: 0.00  to the VMM/s: 0.00  counts since start: 3.00 s", "",
           " pid  name      vcpus  exits/s  hw/s  vmm/s  count  hw time  vmm time",
           f"{pid}  kvmscope{' (ended)' if ended else ''}  1  0.00  0.00  0.00  {total:,}  0.0%  0.0%", "",
           f"VM kvmscope  pid {pid}  vCPUs 1" + ("  ended" if ended else ""),
           "vcpu  exits/s  hw/s  vmm/s  count  hw time  vmm time", f"   0  0.00  0.00  0.00  {total:,}  0.0%  0.0%",
           "level  reason  code  rate/s  count  %  avg  p99  time"]
    names = {KVM_EXIT_IO: "KVM_EXIT_IO", KVM_EXIT_HLT: "KVM_EXIT_HLT"}
    for level, c, n in rows:
        name, code = (name_of(c), ct(c)) if level == "hw" else (names.get(c, "?"), str(c))
        out.append(f"{level:<5}  {name}  {code}  0.00  {n:,}  {100 * n / total:.1f}%  1.00 us  2.00 us  0.0%")
    return "\n".join(out) + "\n\n"


def _metrics(hw, vmm, pid=4242):
    """A serve page as report/prometheus.cpp writes it (the families the checks read)."""
    vm = f'vm="kvmscope",vm_pid="{pid}"'
    out = ["# HELP kvmscope_exits_total VM exits.", "# TYPE kvmscope_exits_total counter"]
    out += [f'kvmscope_exits_total{{{vm},vcpu="0",level="hardware",isa="{P.name}",reason="{name_of(c)}",code="{ct(c)}"}} {n}'
            for c, n in sorted(hw.items())]
    out += [f'kvmscope_exits_total{{{vm},vcpu="0",level="vmm",isa="none",reason="KVM_EXIT_{c}",code="{c}"}} {n}'
            for c, n in sorted(vmm.items())]
    out += [f'kvmscope_pio_total{{{vm},port="0x10",direction="out",size="1"}} 300',
            f'kvmscope_msr_total{{{vm},msr="0x1a0",access="read"}} 200',
            "kvmscope_collector_exits_not_stored_total 0", "kvmscope_collector_events_lost_total 0",
            "kvmscope_readout_timestamp_seconds 12.5"]
    return "\n".join(out) + "\n"


def _good_views(d):
    """i-top and j-serve: their view's output, the guest's files, the scrape."""
    i_hw = {P.cpuid: 2000, P.io: 300, P.hlt: 300, P.mmio_first: 2}
    i_vmm = {KVM_EXIT_IO: 300, KVM_EXIT_HLT: 300}
    frames = (_top_frame({P.cpuid: 10}, {}, False) + _top_frame(i_hw, i_vmm, False)
              + _top_frame(i_hw, i_vmm, True) + _top_frame(i_hw, i_vmm, True))
    _write_case(d, "i-top", frames, _ref({(0, c): n for c, n in i_hw.items()}, i_vmm))
    j_hw = {P.cpuid: 2000, P.io: 300, P.hlt: 100, P.mmio_first: 2}
    j_hw[P.msr_read] = j_hw.get(P.msr_read, 0) + 200
    j_vmm = {KVM_EXIT_IO: 300, KVM_EXIT_HLT: 100}
    _write_case(d, "j-serve", "kvmscope serve: serving http://127.0.0.1:9580/metrics (all VMs), a readout every 1s\n",
                _ref({(0, c): n for c, n in j_hw.items()}, j_vmm))
    for name in ("i-top", "j-serve"):
        for ext, text in (("guest", GUEST_TABLE), ("guest-rc", "0\n")):
            with open(os.path.join(d, f"{name}.{ext}"), "w", encoding="utf-8") as f:
                f.write(text)
    with open(os.path.join(d, "j-serve.metrics"), "w", encoding="utf-8") as f:
        f.write(_metrics(j_hw, j_vmm))


def _mutate(d, name, fn, ext="stdout"):
    p = os.path.join(d, f"{name}.{ext}")
    if name == "done" or fn is None:  # the file is missing altogether
        os.remove(p)
        return
    text = ""
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            text = f.read()
    with open(p, "w", encoding="utf-8") as f:
        f.write(fn(text))


def _replace_last(text, old, new):
    i = text.rfind(old)
    return text if i < 0 else text[:i] + new + text[i + len(old):]


def _json_edit(fn):
    def edit(text):
        doc = json.loads(text)
        fn(doc)
        return json.dumps(doc)
    return edit


def _count_edit(code, delta):
    def fn(doc):
        for e in doc["exits"]:
            if e["level"] == "hardware" and e["code"] == code:
                e["count"] += delta
                e["timed"] += delta
                e["hist_log2_ns"][-1] += delta
                break
        doc["totals"]["hardware"] += delta
    return fn


def _rename(code, name):
    def fn(doc):
        for e in doc["exits"]:
            if e["level"] == "hardware" and e["code"] == code:
                e["reason"] = name
    return fn


def _broken():
    """Label: (case, edit, file extension) of outputs that must fail, for the current ISA."""
    return {
        "a: cpuid one short": ("a-json", _json_edit(_count_edit(P.cpuid, -1)), "stat"),
        "a: one interrupt missed (hist disagrees)": ("a-json", _json_edit(_count_edit(P.timer, -1)), "stat"),
        "a: second VM": ("a-json", _json_edit(lambda d: d["vms"].append({"pid": 1, "name": None, "comm": "x"})), "stat"),
        "a: two untimed reasons": ("a-json", _json_edit(lambda d: d["exits"][0].update(timed=d["exits"][0]["count"] - 1)), "stat"),
        "a: entries without their vCPU": ("a-json", _json_edit(lambda d: [e.update(vcpu=None) for e in d["exits"]]), "stat"),
        "a: not JSON": ("a-json", lambda t: t.replace('"schema"', "schema"), "stat"),
        "a: document on stdout too": ("a-json", lambda t: t + '{"schema": "kvmscope.stat/1"}\n', "stdout"),
        "a: command output in the file": ("a-json", lambda t: GUEST_TABLE + t, "stat"),
        "a: no file": ("a-json", None, "stat"),
        "e: table on stdout": ("e-table", lambda t: t + "Hardware exits (kvm:kvm_exit)\n", "stdout"),
        "a: hist dropped": ("a-json", lambda t: t.replace("Dropped: 0", "Dropped: 3"), "hist"),
        "a: rc 1": ("a-json", lambda t: "1\n", "rc"),
        "a: cpuid named otherwise than the kernel": ("a-json", _json_edit(_rename(P.cpuid, "cpuid?")), "stat"),
        "a: another ISA": ("a-json", _json_edit(lambda d: [e.update(isa="svm" if P.name == "vmx" else "vmx")
                                                          for e in d["exits"] if e["level"] == "hardware"]), "stat"),
        "b: a block missing": ("b-every", lambda t: re.sub(r"--- kvmscope: 2000 exits.*?(?=---)", "", t, flags=re.S), "stat"),
        "b: wrong block sum": ("b-every", lambda t: re.sub(r"(kvm exit \S+ \(\S+\)): (\d+)",
                                                           lambda m: f"{m.group(1)}: {int(m.group(2)) - 1}", t, count=1), "stat"),
        "b: final table off": ("b-every", lambda t: t.replace(_table_row(P.cpuid, 3000), _table_row(P.cpuid, 2999)), "stat"),
        "c: vcpu 1 short": ("c-vcpus", _json_edit(lambda d: [e.update(count=e["count"] - 1, timed=e["timed"] - 1)
                                                            for e in d["exits"] if e["vcpu"] == 1 and e["code"] == P.io
                                                            and e["level"] == "hardware"]), "stat"),
        "d: hypercall 499": ("d-vmcall", _json_edit(_count_edit(P.hypercall, -1)), "stat"),
        "d: EINTR not counted": ("d-vmcall", _json_edit(lambda d: d["exits"].pop()), "stat"),
        "L1 hung after b": ("done", lambda t: "", "txt"),
        "e: empty table": ("e-table", lambda t: "", "stat"),
        "f: msr write short": ("f-msr-mmio", _json_edit(_count_edit(P.msr_write, -1)), "stat"),
        "f: an MMIO exit of another reason": ("f-msr-mmio", _json_edit(lambda d: [e.update(code=P.cpuid, code_text=ct(P.cpuid),
                                                                                         reason=name_of(P.cpuid))
                                                                                for e in d["exits"] if e["level"] == "hardware"
                                                                                and e["code"] == P.mmio]), "stat"),
        "f: one MMIO exit to the VMM missed": ("f-msr-mmio", _json_edit(lambda d: d["exits"][-1].update(count=499)), "stat"),
        "guest: io 999": ("guest", lambda t: t.replace(f"exit_reason: {P.io:>10}, vcpu_id: {0:>10} }} hitcount: {1000:>10}",
                                                        f"exit_reason: {P.io:>10}, vcpu_id: {0:>10} }} hitcount: {999:>10}"), "hist"),
        "isa.txt missing": ("isa", lambda t: "", "txt"),
        "g: a port row short": ("g-drill", _json_edit(lambda d: d["drilldowns"][0]["rows"][0].update(count=299)), "stat"),
        "g: an msr row too many": ("g-drill", _json_edit(lambda d: d["drilldowns"][2]["rows"].append(
            {"value": 0x10, "detail": "read", "count": 1})), "stat"),
        "g: no hypercall drill-down": ("g-drill", _json_edit(lambda d: d["drilldowns"].pop()), "stat"),
        "h: recording cut short": ("h-record", _json_edit(lambda d: d["recording"].update(complete=False)), "stat"),
        "h: events lost": ("h-record", _json_edit(lambda d: d["recording"].update(lost_events=3)), "stat"),
        "h: io one short": ("h-record", _json_edit(_count_edit(P.io, -1)), "stat"),
        "h: a stat document": ("h-record", _json_edit(lambda d: d.update(schema="kvmscope.stat/1")), "stat"),
        "k: nothing timed to compare": ("k-pct", _json_edit(lambda d: [e.update(timed=0) for e in d["exits"]]), "stat"),
        "k: no report": ("k-pct", None, "report"),
        "k: stat on the tp_btf hooks": ("k-pct", lambda t: t.replace("kvm:kvm_exit and kvm:kvm_entry (classic",
                                                                     "tp_btf/kvm_exit and tp_btf/kvm_entry (BTF"), "stderr"),
        # live p50 of every reason 20 % above the exact one: held, a failure (was a warning)
        "k: live p50 20 % off": ("k-pct", _json_edit(lambda d: [e.update(p50_ns=1229) for e in d["exits"]]), "stat"),
        "k: live p99 13 % off": ("k-pct", _json_edit(lambda d: [e.update(p99_ns=2261) for e in d["exits"]]), "stat"),
        "l: an io exit at another RIP": ("l-func", _json_edit(lambda d: d["guest_code"]["vms"][0]["reasons"][1]["functions"][0]
                                                            ["sites"][0].update(rip="0x2000")), "stat"),
        "l: a RIP the kernel saw is missing": ("l-func", lambda t: t +
                                               "{ exit_reason: 1, guest_rip: 4096 } hitcount: 1\n", "rhist"),
        "l: an exit counted as kernel": ("l-func", _json_edit(lambda d: d["guest_code"]["vms"][0]["exits"].update(kernel=1)),
                                         "stat"),
        "l: no rip hist": ("l-func", None, "rhist"),
        "m: io one short": ("m-counts", _json_edit(_count_edit(P.io, -1)), "stat"),
        "m: something timed": ("m-counts", _json_edit(lambda d: d["exits"][0].update(timed=5)), "stat"),
        "m: the KVM_RUN hook was loaded": ("m-counts", lambda t: t.replace(M_NO_RUN_HOOK, ""), "stderr"),
        "m: exits to the VMM of no vCPU": ("m-counts", _json_edit(lambda d: [e.update(vcpu=None) for e in d["exits"]
                                                                            if e["level"] == "vmm"]), "stat"),
        "m: a vCPU 1 exit to the VMM counted as vCPU 0's": ("m-counts", _json_edit(lambda d: [
            e.update(count=e["count"] + (1 if e["vcpu"] == 0 else -1)) for e in d["exits"]
            if e["level"] == "vmm" and e["code"] == KVM_EXIT_IO]), "stat"),
        "hooks: classic ran where btf was asked": ("hooks", lambda t: t.replace("tp_btf/kvm_exit", "kvm:kvm_exit"), "txt"),
        "hooks: drill-down events on the classic tracepoints": ("hooks", lambda t: t.replace(
            "drill-down events: tp_btf", "drill-down events: tp_btf but kvm:kvm_cpuid (classic: ...)"), "txt"),
        "hooks: exits to the VMM on the classic tracepoint": ("hooks", lambda t: t.replace(
            "exits to the VMM: tp_btf/kvm_userspace_exit", "exits to the VMM: kvm:kvm_userspace_exit (classic ...)"), "txt"),
        "i: io one short in the last frame": ("i-top", lambda t: _replace_last(t, f"  {ct(P.io)}  0.00  300  ",
                                                                              f"  {ct(P.io)}  0.00  299  "), "stdout"),
        "i: VM ended in one frame only": ("i-top", lambda t: t.replace("vCPUs 1  ended", "vCPUs 1", 1), "stdout"),
        "i: a reason named otherwise": ("i-top", lambda t: t.replace(f"hw     {name_of(P.cpuid)}  ", "hw     cpuid?  "), "stdout"),
        "i: lost events": ("i-top", lambda t: t.replace("\n\n pid", "\nwarning: 3 events lost\n\n pid"), "stdout"),
        "i: the guest failed": ("i-top", lambda t: "1\n", "guest-rc"),
        "i: top killed": ("i-top", lambda t: "137\n", "rc"),
        "j: no scrape": ("j-serve", None, "metrics"),
        "j: cpuid one short": ("j-serve", lambda t: re.sub(r'(code="' + ct(P.cpuid) + r'"\}) 2000', r"\1 1999", t), "metrics"),
        "j: another port": ("j-serve", lambda t: t.replace('port="0x10"', 'port="0x11"'), "metrics"),
        "j: msr write counted": ("j-serve", lambda t: t + 'kvmscope_msr_total{vm="kvmscope",vm_pid="4242",msr="0x1a0",access="write"} 1\n', "metrics"),
        "j: events lost": ("j-serve", lambda t: t.replace("events_lost_total 0", "events_lost_total 2"), "metrics"),
        "j: hardware series of another isa": ("j-serve", lambda t: t.replace(f'isa="{P.name}"', 'isa="x"', 1), "metrics"),
        "j: no dynamic binary in L1": ("j-serve", lambda t: "", "missing"),
    }


def self_test():
    global P, NAMES
    ok = True
    for profile in exit_isa.PROFILES.values():
        P, NAMES = profile, dict(profile.builtin_names)
        with tempfile.TemporaryDirectory() as d:
            _good_outdir(d)
            with contextlib.redirect_stdout(io.StringIO()) as buf:
                res = run_checks(d)
            if res.failed or len(res.rows) < 70:
                print(buf.getvalue())
                print(f"SELF-TEST FAIL ({profile.name}): good outputs did not pass ({len(res.rows)} checks)")
                ok = False
        for label, (case, fn, ext) in _broken().items():
            P, NAMES = profile, dict(profile.builtin_names)
            with tempfile.TemporaryDirectory() as d:
                _good_outdir(d)
                _mutate(d, case, fn, ext)
                with contextlib.redirect_stdout(io.StringIO()):
                    res = run_checks(d)
                if not res.failed:
                    print(f"SELF-TEST FAIL ({profile.name}): broken outputs passed: {label}")
                    ok = False
    # On host time (SVM under TCG) a p99 beyond the tolerance is a warning; p50 stays held.
    P, NAMES = exit_isa.PROFILES["svm"], dict(exit_isa.PROFILES["svm"].builtin_names)
    for label, p50, p99, want_fail in (("host clock, p99 13 % off", 1024, 2261, False),
                                       ("host clock, p50 20 % off", 1229, 2048, True)):
        with tempfile.TemporaryDirectory() as d:
            _good_outdir(d)
            _mutate(d, "l1-clock", lambda t: "host\n", "txt")
            _mutate(d, "k-pct", _json_edit(lambda doc: [e.update(p50_ns=p50, p99_ns=p99) for e in doc["exits"]]), "stat")
            with contextlib.redirect_stdout(io.StringIO()):
                res = run_checks(d)
            if bool(res.failed) != want_fail or (not want_fail and not res.warnings):
                print(f"SELF-TEST FAIL (svm): {label}: failed={bool(res.failed)} warnings={res.warnings}")
                ok = False
    print("SELF-TEST PASS" if ok else "SELF-TEST FAIL")
    return ok


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return 0 if self_test() else 1
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if run_checks(argv[1]).failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
