#!/usr/bin/env python3
"""Check the L2 boot recording of tests/nested/run-boot.sh (run on the host: TCG makes L1 slow).

Usage: check-boot.py OUTDIR BUILDDIR          one PASS/FAIL line per check (SKIP/WARN/notes do not
                                              fail), a summary; exit 0 only if every check passed
       check-boot.py --marks OUTDIR PASS1.JSON  print the `kvmscope report --mark` arguments (one
                                              per line) that cut the boot into phases, or nothing
       check-boot.py --self-test               feed made-up outputs (good and broken) through

OUTDIR is what l1-boot.sh wrote in L1 (boot.kvms, boot.{hist,uhist,rc,stderr,qemu-pid,qemu-tids,
l2up,l2-serial.log}, the same for the base run). BUILDDIR holds run-boot.sh's
boot-report.{txt,json,html}, the reports' exit status (*.rc), Chromium's boot-dom.html, its logs and
the screenshot boot-report.png.

The reference: tracefs hist triggers in L1 counted every kvm:kvm_exit (keys common_pid, isa,
exit_reason) and kvm:kvm_userspace_exit (reason, errno) from before `kvmscope record` started to
after it ended. Only the recorded QEMU runs a VM in L1 (checked: every counted thread is one of
its threads), so the report's hardware exits must equal the hist exactly, per reason.
"""

import contextlib
import importlib.util
import io
import json
import os
import re
import sys
import tempfile

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("check_results", os.path.join(HERE, "check-results.py"))
cr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cr)
# The results table, file reading and the hist parser are check-results.py's.
Results, read, parse_hist = cr.Results, cr.read, cr.parse_hist
exit_isa = cr.exit_isa
# The hardware of the outputs being checked (run_checks sets it from isa.txt: the SVM bed or the
# VMX bed) and the running kernel's reason names for it (from kvm_exit.format).
P = exit_isa.SVM
NAMES = dict(P.builtin_names)


def read_int(d, name):
    text = (read(d, name) or "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


def read_float(d, name):
    try:
        return float((read(d, name) or "").strip())
    except ValueError:
        return None


class Run:
    """One L2 boot in L1 (base or boot) and the kernel's counts of it."""

    def __init__(self, outdir, name):
        self.name = name
        self.present = read(outdir, name + ".cmd") is not None
        self.rc = read_int(outdir, name + ".rc")
        self.secs = (read(outdir, name + ".secs") or "?").strip()
        self.stderr = read(outdir, name + ".stderr") or ""
        self.qemu_pid = read_int(outdir, name + ".qemu-pid")
        self.tids = {int(t) for t in (read(outdir, name + ".qemu-tids") or "").split() if t.isdigit()}
        self.t0 = read_float(outdir, name + ".t0")
        self.l2up = read_float(outdir, name + ".l2up")
        m = re.search(r"\s(\d+\.\d+): kvm_exit:", read(outdir, name + ".kernel-exit") or "")
        self.kernel_exit = float(m.group(1)) if m else None
        serial = read(outdir, name + ".l2-serial.log") or ""
        m = re.search(r"=== L2 up: .*L2 uptime ([0-9.]+)s", serial)
        self.l2_uptime = float(m.group(1)) if m else None
        self.l2_up_seen = m is not None
        h, u = parse_hist(read(outdir, name + ".hist")), parse_hist(read(outdir, name + ".uhist"))
        self.ref_ok = h is not None and u is not None and h[2] == 0 and u[2] == 0
        self.ref_detail = ("missing or unreadable hist files" if h is None or u is None else
                           f"kvm_exit hits={h[1]} dropped={h[2]}, kvm_userspace_exit hits={u[1]} dropped={u[2]}")
        self.hw = {}          # {code: n}, the bed's ISA
        self.other_isa = 0
        self.pids = {}        # {thread: n}
        self.hits = h[1] if h else None
        self.vmm = {}         # {code: n} for errno 0; {-errno: n} for KVM_RUN errors
        for keys, n in (h[0] if h else []):
            self.pids[keys.get("common_pid")] = self.pids.get(keys.get("common_pid"), 0) + n
            if keys.get("isa") == P.isa:
                self.hw[keys.get("exit_reason")] = self.hw.get(keys.get("exit_reason"), 0) + n
            else:
                self.other_isa += n
        for keys, n in (u[0] if u else []):
            code = keys["reason"] if keys.get("errno", 0) == 0 else keys["errno"]
            self.vmm[code] = self.vmm.get(code, 0) + n
        self.irq = irq_deltas(read(outdir, name + ".irq0"), read(outdir, name + ".irq1"))

    @property
    def total(self):
        return sum(self.hw.values()) + self.other_isa


def irq_counts(text):
    """/proc/interrupts -> {name: total over CPUs} (LOC, IWI, RES, numbered lines by number)."""
    out = {}
    for line in (text or "").splitlines()[1:]:
        name, _, rest = line.partition(":")
        nums = []
        for w in rest.split():
            if not w.isdigit():
                break
            nums.append(int(w))
        if name.strip() and nums:
            out[name.strip()] = sum(nums)
    return out


def irq_deltas(before, after):
    a, b = irq_counts(before), irq_counts(after)
    return {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0) > 0}


# ---- phase marks ----

def marks_for(outdir, doc):
    """Phase marks on the report's axis: 'kernel' at L2's first exit from a kernel address (a trace
    instance in L1 logged it with a CLOCK_MONOTONIC time stamp), 'userspace' when L1 saw L2's init
    line in the serial file (polled every 0.2 s); the phase from the start is 'firmware' (QEMU
    setup, SeaBIOS, the option ROM, the kernel's setup code and decompressor). A mark that is
    missing or out of order is left out; [] when none is left."""
    run = Run(outdir, "boot")
    try:
        start = doc["recording"]["start_monotonic_ns"] / 1e9
        end = float(next(b["end_s"] for b in doc["boots"] if b["vm_pid"] == run.qemu_pid))
    except (KeyError, TypeError, ValueError, StopIteration):
        return []
    marks, last = [], 0.0
    for label, t in (("kernel", run.kernel_exit), ("userspace", run.l2up)):
        if t is not None and last < t - start < end:
            last = round(t - start, 3)
            marks.append((label, last))
    return [("firmware", 0.0)] + marks if marks else []
def mark_args(marks):
    out = []
    for label, t in marks:
        out += ["--mark", f"{t:.3f}={label}"]
    return out


# ---- checks ----

def check_l1(res, outdir, run):
    res.check("L1 finished both runs and saved its results", read(outdir, "done.txt") is not None,
              "" if read(outdir, "done.txt") is not None else "no done.txt: L1 hung or died before the end")
    if not res.check("boot: kvmscope record ran in L1 and exited 0", run.present and run.rc == 0,
                     f"rc={run.rc}, {run.secs} s; stderr: {' | '.join(run.stderr.strip().splitlines()[-3:])}"):
        return False
    res.check("boot: L2 reached userspace (its init line is in the L2 serial log)", run.l2_up_seen,
              f"L2 uptime {run.l2_uptime} s at its init" if run.l2_up_seen else "no '=== L2 up' line")
    ok = res.check(f"boot: reference counts (tracefs hist triggers) complete, all {P.name}",
                   run.ref_ok and run.other_isa == 0,
                   run.ref_detail + (f", non-{P.name} exits {run.other_isa}" if run.other_isa else ""))
    foreign = {p: n for p, n in run.pids.items() if p not in run.tids}
    res.check("boot: every kvm_exit the kernel counted came from a thread of the recorded QEMU",
              run.qemu_pid is not None and run.tids and not foreign,
              f"QEMU pid {run.qemu_pid}, threads {sorted(run.tids)}, exits per thread "
              + ", ".join(f"{p}={n}" for p, n in sorted(run.pids.items(), key=lambda x: str(x[0])))
              + (f"; not QEMU's: {foreign}" if foreign else ""))
    return ok


def load_report(res, builddir):
    rcs = {n: read_int(builddir, f"boot-report.{n}.rc") for n in ("text", "json")}
    res.check("report: `kvmscope report` (text; --json with --html) exited 0", rcs == {"text": 0, "json": 0},
              f"status {rcs}; stderr: "
              + " | ".join((read(builddir, f"boot-report.{n}.stderr") or "").strip()[-300:] for n in rcs))
    try:
        doc = json.loads(read(builddir, "boot-report.json") or "")
    except ValueError as e:
        res.check("report: JSON document kvmscope.report/1", False, f"not JSON: {e}")
        return None
    ok = isinstance(doc, dict) and doc.get("schema") == "kvmscope.report/1"
    res.check("report: JSON document kvmscope.report/1", ok,
              f"schema={doc.get('schema') if isinstance(doc, dict) else type(doc).__name__}")
    return doc if ok else None


def check_complete(res, run, doc):
    """(a) no event lost anywhere, the trailer present."""
    rec, health, stream = doc.get("recording", {}), doc.get("health", {}), doc.get("stream", {})
    m = re.search(r"lost: (\d+)", run.stderr)
    res.check("(a) record's own summary says lost: 0", m is not None and m.group(1) == "0",
              run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "no summary on stderr")
    res.check("(a) recording complete (trailer present), lost_events 0",
              rec.get("complete") is True and rec.get("lost_events") == 0 and not any(rec.get("lost_per_cpu") or []),
              f"complete={rec.get('complete')} lost_events={rec.get('lost_events')} lost_per_cpu={rec.get('lost_per_cpu')}")
    bad = {k: v for k, v in health.items() if v}
    res.check("(a) health: nothing lost or left unstored", isinstance(health, dict) and health and not bad,
              json.dumps(health, sort_keys=True))
    res.check("(a) stream: no unknown event types", stream.get("unknown_events") == 0,
              json.dumps(stream, sort_keys=True))
    warns = [n for n in doc.get("notes", []) if str(n).startswith("warning")]
    res.check("(a) report notes carry no warning", not warns, "; ".join(warns))


def exits_of(doc, level, pid=None):
    out = {}
    for e in doc.get("exits", []):
        if e.get("level") == level and (pid is None or e.get("vm_pid") == pid):
            code = e["code"]
            if level == "vmm":
                text = str(e.get("code_text", ""))
                if text.startswith("-") and text[1:].isdigit():
                    code = int(text)  # a KVM_RUN error, as the hist's errno
            out[code] = out.get(code, 0) + e.get("count", 0)
    return out


def text_total(text):
    """The 'total' row of the first (hardware) exit table of the text report."""
    section = (text or "").split("Hardware exits (kvm:kvm_exit)", 1)
    if len(section) < 2:
        return None
    m = re.search(r"^total\s+([\d,]+)\s", section[1], re.M)
    return int(m.group(1).replace(",", "")) if m else None


def fmt(counts):
    return ", ".join(f"{c if c < 0 else P.code_text(c)}={n}" for c, n in sorted(counts.items())) or "none"


def check_counts(res, run, doc, text):
    """(b) the report's hardware exits equal the kernel's kvm_exit count, per reason."""
    vms = doc.get("vms") or []
    pids = {e.get("vm_pid") for e in doc.get("exits", [])}
    res.check("(b) one VM in the report, the recorded QEMU, all exits keyed by its pid",
              [v.get("pid") for v in vms] == [run.qemu_pid] and pids == {run.qemu_pid},
              f"vms={[(v.get('pid'), v.get('name'), v.get('comm')) for v in vms]}, exit pids={sorted(p for p in pids if p is not None)}, "
              f"QEMU pid in L1={run.qemu_pid}")
    if not run.ref_ok:
        res.check("(b) hardware exits equal the kernel's kvm_exit count", False, "no exact reference")
        return
    hw = exits_of(doc, "hardware", run.qemu_pid)
    total = sum(hw.values())
    res.check("(b) hardware-exit total equals the kernel's kvm_exit count for the QEMU process",
              total == run.total and doc.get("totals", {}).get("hardware") == total,
              f"report {total:,} (totals.hardware {doc.get('totals', {}).get('hardware')}), kernel hist {run.total:,}")
    diff = {c: (hw.get(c, 0), run.hw.get(c, 0)) for c in set(hw) | set(run.hw) if hw.get(c, 0) != run.hw.get(c, 0)}
    res.check(f"(b) every hardware reason ({len(run.hw)}) equals the kernel's count", not diff,
              "report/kernel " + ", ".join(f"{P.code_text(c)}={a}/{b}" for c, (a, b) in sorted(diff.items()))
              if diff else fmt(run.hw))
    tt = text_total(text)
    res.check("(b) the text report's hardware total row says the same", tt == run.total, f"text total {tt}")
    vmm = exits_of(doc, "vmm", run.qemu_pid)
    res.check("(b) every exit to the VMM (and KVM_RUN error) equals the kernel's kvm_userspace_exit count",
              vmm == run.vmm, f"report {fmt(vmm)}; kernel {fmt(run.vmm)}")


def check_boot(res, run, doc, text, marks):
    """(c) a boot summary for the QEMU VM ending at shutdown or process exit, with the time to the
    first exit and non-empty phases."""
    boots = [b for b in doc.get("boots", []) if b.get("vm_pid") == run.qemu_pid]
    if not res.check("(c) the report has a boot summary for the QEMU VM", len(boots) == 1,
                     f"{len(boots)} boots for pid {run.qemu_pid}; all: {[b.get('vm_pid') for b in doc.get('boots', [])]}"):
        return
    b = boots[0]
    res.check("(c) the boot runs from the command start to KVM_EXIT_SHUTDOWN or the process exit, complete",
              b.get("start") == "command_started" and b.get("end") in ("shutdown", "process_exit") and b.get("complete") is True,
              f"start={b.get('start')} end={b.get('end')} complete={b.get('complete')} {b.get('start_s')} s .. {b.get('end_s')} s")
    fe, dur = b.get("first_exit_after_s"), b.get("duration_s") or 0
    res.check("(c) time to the first exit is known and inside the boot",
              isinstance(fe, (int, float)) and 0 < fe < dur, f"first exit after {fe} s of {dur} s")
    phases = b.get("phases") or []
    empty = [p.get("label") for p in phases if not (p.get("duration_s", 0) > 0 and p.get("hardware_exits", 0) > 0)]
    # L1 notices L2's init line by polling the serial file every 0.2 s (l1-boot.sh), and L2's
    # init powers off at once: the last mark can land after the line's own exits, leaving the
    # last phase a few ms long and without exits. Allowed for the last phase, under 0.5 s.
    if phases and empty == [phases[-1].get("label")] and phases[-1].get("duration_s", 0) < 0.5:
        empty = []
    res.check("(c) phases: at least one, each with a duration and hardware exits (the last: or < 0.5 s)",
              phases and not empty,
              "; ".join(f"{p.get('label')} {p.get('start_s')}..{p.get('end_s')} s {p.get('hardware_exits')} exits"
                        for p in phases) + (f"; empty: {empty}" if empty else ""))
    sums = (sum(p.get("hardware_exits", 0) for p in phases), sum(p.get("vmm_exits", 0) for p in phases))
    res.check("(c) the phases add up to the boot's exits", sums == (b.get("hardware_exits"), b.get("vmm_exits")),
              f"phases {sums}, boot ({b.get('hardware_exits')}, {b.get('vmm_exits')})")
    res.check("(c) the phases are the marks given", marks and [p.get("label") for p in phases] == [m[0] for m in marks],
              f"labels {[p.get('label') for p in phases]}, marks {mark_args(marks)}")
    if [m[0] for m in marks] != ["firmware", "kernel", "userspace"]:
        res.warn("(c) phase marks missing", f"only {[m[0] for m in marks]}: L1 did not log L2's first kernel "
                 "exit or did not see L2's init line, or the times were out of order")
    after = sum(exits_of(doc, "hardware", run.qemu_pid).values()) - (b.get("hardware_exits") or 0)
    if after:
        res.note(f"boot: {after} hardware exits came after the boot's end (not in the boot summary)")
    res.check("(c) the text report prints the boot summary", f"Boot of VM {run.qemu_pid}" in (text or ""), "")


def check_html(res, builddir):
    """(d) the page rendered in headless Chromium: every chart drew, no error, no console output."""
    if read(builddir, "boot-chromium-missing.log") is not None:
        res.skip("(d) HTML in headless Chromium", "chromium is not installed (apt-get install chromium)")
        return
    res.check("(d) the HTML report was written", bool(read(builddir, "boot-report.html")), "")
    dom = read(builddir, "boot-dom.html") or ""
    m = re.search(r'<div id="kvmscope-status"[^>]*>[^<]*', dom)
    status = m.group(0) if m else ""
    charts = re.search(r'data-charts="(\d+)"', status)
    rendered = re.search(r'data-rendered="(\d+)"', status)
    n = int(charts.group(1)) if charts else 0
    ok = 'data-state="ok"' in status and n > 0 and rendered and int(rendered.group(1)) == n and "=0px" not in status
    res.check("(d) the page reports ok in #kvmscope-status: every chart drew pixels", ok,
              status[:400] if status else "no #kvmscope-status in the dumped DOM")
    console = [line for name in ("boot-chromium-dom.log", "boot-chromium-screenshot.log")
               for line in (read(builddir, name) or "").splitlines() if ":CONSOLE" in line]
    res.check("(d) the page wrote nothing to the console", not console, " | ".join(console[:3]))
    png = read(builddir, "boot-report.png", "rb") or b""
    res.check("(d) screenshot boot-report.png is a PNG", png[:8] == PNG_MAGIC, f"{len(png)} bytes")


LINK_TEXT = 0xFFFFFFFF81000000


def l2_offset(outdir):
    """L2's KASLR offset from the _text its init printed from /proc/kallsyms, and that _text (hex
    text); (None, None) where it printed none."""
    m = re.search(r"=== L2 kallsyms: ([0-9a-f]{16}) T _text", read(outdir, "boot.l2-serial.log") or "")
    return (int(m.group(1), 16) - LINK_TEXT, m.group(1)) if m else (None, None)


def guest_sites(doc, pid):
    """{(code, rip): count} of the hardware exits in the guest-code report of VM pid."""
    return cr.guest_sites_of(doc, pid)[0]


def check_live_guest_code(res, outdir, run):
    """(f) stat --by function --guest-kernel watched the same boot live (inside the recording):
    the offset it found in L2's bzImage is L2's own, and its count per (reason, guest RIP),
    kept in the kernel, equals the kernel's hist."""
    text = read(outdir, "boot.live")
    if text is None:
        res.skip("(f) live guest code", "no boot.live from L1 (kslive=0 or an older l1-boot.sh)")
        return
    riphist = parse_hist(read(outdir, "boot.riphist"))
    try:
        doc = json.loads(text)
    except ValueError as e:
        res.check("(f) stat --by function wrote its JSON", False, str(e))
        return
    code = doc.get("guest_code") or {}
    vms = [v for v in code.get("vms", []) if v.get("pid") == run.qemu_pid]
    vm = vms[0] if vms else {}
    want, _text = l2_offset(outdir)
    got = int(vm.get("kaslr_offset", "-1"), 16) if vm.get("kaslr_offset") else None
    res.check("(f) live: the KASLR offset stat found in L2's bzImage is L2's own, every checkable RIP fits",
              want is not None and got == want and vm.get("offset_source") == "verified"
              and vm.get("checkable_rips", 0) > 0 and vm.get("verified_rips") == vm.get("checkable_rips"),
              f"found {vm.get('kaslr_offset')} ({vm.get('offset_source')}, {vm.get('verified_rips')} of "
              f"{vm.get('checkable_rips')}); L2 says offset {hex(want) if want is not None else '?'}")
    if riphist is None:
        res.check("(f) live: the kernel's hist by exit_reason,guest_rip is there", False, "no boot.riphist")
        return
    ref = cr.rip_counts(riphist[0])
    diff = cr.count_diff(guest_sites(doc, run.qemu_pid), ref)
    res.check(f"(f) live: every (reason, guest RIP) count ({len(ref):,} of them) stat kept in the kernel "
              "equals the kernel's hist", riphist[2] == 0 and ref and not diff and code.get("sites_not_stored") == 0,
              f"dropped {riphist[2]}, not stored {code.get('sites_not_stored')}; " + ", ".join(
                  f"0x{c:x}@{rip:#x}={a}/{b}" for (c, rip), (a, b) in sorted(diff.items())[:8]))
    ex = vm.get("exits") or {}
    res.note(f"live guest code: kernel {ex.get('kernel')}, firmware/early boot {ex.get('early')}, "
             f"user {ex.get('user')} (stat decides early/user per vCPU thread)")


def check_guest_code(res, outdir, builddir, run):
    """(e) report --guest-symbols/--guest-kernel: the KASLR offset it found is L2's own (its
    kallsyms _text), and every (reason, guest RIP) count equals the kernel's hist of the run."""
    riphist = parse_hist(read(outdir, "boot.riphist"))
    if riphist is None:
        res.skip("(e) guest code", "no boot.riphist from L1 (an older l1-boot.sh)")
        return
    rc = read_int(builddir, "boot-guest.rc")
    res.check("(e) `kvmscope report --guest-symbols --guest-kernel` exited 0", rc == 0,
              f"status {rc}; stderr: {(read(builddir, 'boot-guest.stderr') or '').strip()[-300:]}")
    try:
        doc = json.loads(read(builddir, "boot-guest.json") or "")
    except ValueError as e:
        res.check("(e) guest-code report is JSON", False, str(e))
        return
    vms = [v for v in (doc.get("guest_code") or {}).get("vms", []) if v.get("pid") == run.qemu_pid]
    want, text = l2_offset(outdir)
    vm = vms[0] if vms else {}
    got = int(vm.get("kaslr_offset", "-1"), 16) if vm.get("kaslr_offset") else None
    res.check("(e) the KASLR offset found in the kernel's code is L2's own (its /proc/kallsyms _text)",
              want is not None and got == want and vm.get("offset_source") == "verified",
              f"found {vm.get('kaslr_offset')} ({vm.get('offset_source')}, {vm.get('verified_rips')} of "
              f"{vm.get('checkable_rips')} checkable RIPs fit, {vm.get('other_fitting_offsets')} other offsets as good); "
              f"L2 says _text {text or 'nothing'} = offset {hex(want) if want is not None else '?'}")
    res.check("(e) every checkable exit RIP fits the instruction at that offset",
              vm and vm.get("checkable_rips", 0) > 0 and vm.get("verified_rips") == vm.get("checkable_rips"),
              f"{vm.get('verified_rips')} of {vm.get('checkable_rips')}")
    rows, _hits, dropped = riphist
    ref = cr.rip_counts(rows)
    diff = cr.count_diff(guest_sites(doc, run.qemu_pid), ref)
    per_reason = {}
    for (c, _rip), n in ref.items():
        per_reason[c] = per_reason.get(c, 0) + n
    res.check(f"(e) every (reason, guest RIP) count ({len(ref):,} of them) equals the kernel's hist "
              "(keys exit_reason,guest_rip)", dropped == 0 and ref and not diff,
              f"dropped {dropped}; " + ("report/kernel " + ", ".join(
                  f"0x{c:x}@{rip:#x}={a}/{b}" for (c, rip), (a, b) in sorted(diff.items())[:8])
                  if diff else "per reason " + fmt(per_reason)))
    ex = vm.get("exits") or {}
    parts = sum(ex.get(k, 0) for k in ("kernel", "early", "user", "other"))
    res.check("(e) kernel + firmware/early boot + user exits add up to the VM's hardware exits",
              parts == sum(ref.values()) and ex.get("other", 1) == 0,
              f"kernel {ex.get('kernel')}, early {ex.get('early')}, user {ex.get('user')}, other {ex.get('other')}; "
              f"hist {sum(ref.values())}")
    if read(builddir, "boot-chromium-missing.log") is None:
        dom = read(builddir, "boot-guest-dom.html") or ""
        m = re.search(r'<div id="kvmscope-status"[^>]*>[^<]*', dom)
        status = m.group(0) if m else ""
        res.check("(e) the guest-code page (function bars, timeline by function) reports ok in Chromium",
                  'data-state="ok"' in status and "chart-guest-timeline" in status and "=0px" not in status,
                  status[:300] if status else "no #kvmscope-status in boot-guest-dom.html")
    for r in (vm.get("reasons") or [])[:6]:
        top = ", ".join(f"{f.get('function')} {f.get('count'):,}" for f in r.get("functions", [])[:4])
        res.note(f"guest code: {r.get('reason')} ({r.get('count'):,}): {top}")


def compare_base(res, base, run):
    """The same boot without kvmscope: what recording adds (notes, never a failure)."""
    if not base.present:
        res.note("base run left out (KS_BOOT_BASE=0)")
        return
    if base.rc != 0 or not base.ref_ok:
        res.warn("base run (no kvmscope) did not complete", f"rc={base.rc} {base.ref_detail}")
        return
    for r in (base, run):
        if r.t0 is not None and r.kernel_exit is not None and r.l2up is not None:
            res.note(f"{r.name}: L2 kernel's first exit {r.kernel_exit - r.t0:.1f} s, L2 init line {r.l2up - r.t0:.1f} s "
                     f"after the run started in L1 ({r.secs} s in all)")
    res.note(f"kernel's counts, base run without kvmscope ({base.secs} s) vs the recorded run ({run.secs} s):")
    res.note(f"  {'reason':<26} {'base':>9} {'recorded':>9}")
    for c in sorted(set(base.hw) | set(run.hw), key=lambda c: -max(base.hw.get(c, 0), run.hw.get(c, 0))):
        res.note(f"  {P.code_text(c) + ' ' + NAMES.get(c, '?'):<26} {base.hw.get(c, 0):>9,} {run.hw.get(c, 0):>9,}")
    res.note(f"  {'total':<26} {base.total:>9,} {run.total:>9,}")
    keys = ("LOC", "IWI", "RES", "CAL", "TLB")
    res.note("L1 interrupts during each run: base "
             + ", ".join(f"{k} {base.irq.get(k, 0):,}" for k in keys) + "; recorded "
             + ", ".join(f"{k} {run.irq.get(k, 0):,}" for k in keys))


def set_isa(res, outdir):
    """P and NAMES from L1's isa.txt and kvm_exit.format; False where they did not come back."""
    global P, NAMES
    isa = (read(outdir, "isa.txt") or "").strip()
    if not res.check("L1 says which hardware made the exits (isa.txt: svm or vmx)", isa in exit_isa.PROFILES,
                     f"isa.txt: {isa!r}"):
        return False
    P = exit_isa.PROFILES[isa]
    tables = exit_isa.kernel_tables(read(outdir, "kvm_exit.format"))
    NAMES = dict(tables[isa]) if tables else dict(P.builtin_names)
    return True


def run_checks(outdir, builddir):
    res = Results()
    print(f"L1: {(read(outdir, 'l1-kernel.txt') or '?').strip()}; kvmscope --version: "
          f"{(read(outdir, 'version.txt') or '?').strip()}")
    if not set_isa(res, outdir):
        print(f"SUMMARY: 0 passed, 1 failed, 0 warnings\nFAILED: {res.failed[0][0]}")
        return res
    run, base = Run(outdir, "boot"), Run(outdir, "base")
    if check_l1(res, outdir, run):
        doc = load_report(res, builddir)
        if doc is not None:
            text = read(builddir, "boot-report.txt")
            check_complete(res, run, doc)
            check_counts(res, run, doc, text)
            check_boot(res, run, doc, text, marks_for(outdir, doc))
            check_html(res, builddir)
            check_guest_code(res, outdir, builddir, run)
            check_live_guest_code(res, outdir, run)
    compare_base(res, base, run)
    n_fail = len(res.failed)
    print(f"SUMMARY: {len(res.rows) - n_fail} passed, {n_fail} failed, {len(res.warnings)} warnings")
    if n_fail:
        print("FAILED: " + "; ".join(r[0] for r in res.failed))
    return res


# ---- self test: made-up outputs in the formats seen from L1 and the report ----

QEMU_PID, VCPU_TID = 281, 284
GOOD_TEXT = 0xFFFFFFFF9E000000  # L2's _text in the guest-code self-test
# A boot's hardware exits per bed: {code: (n, name)}. The first is the timer interrupt, the second
# the port I/O, the third the MSR reads, as the BROKEN edits below expect.
GOOD = {
    "svm": {0x60: (2824, "interrupt"), 0x7B: (35923, "io"), 0x7C: (997, "msr"), 0x400: (1697, "npf"),
            0x72: (828, "cpuid"), 0x46: (1, "UD excp")},
    "vmx": {1: (2410, "EXTERNAL_INTERRUPT"), 30: (9120, "IO_INSTRUCTION"), 31: (310, "MSR_READ"),
            32: (4620, "MSR_WRITE"), 48: (3510, "EPT_VIOLATION"), 49: (640, "EPT_MISCONFIG"),
            52: (1200, "PREEMPTION_TIMER"), 10: (820, "CPUID")},
}
GOOD_VMM = {2: 35705, 6: 66, -4: 2}


def good_hw():
    return {c: n for c, (n, _) in GOOD[P.name].items()}


def nth_code(i):
    return list(GOOD[P.name])[i]


def io_site():
    """The port I/O's first RIP in the guest-code self-test."""
    return GOOD_TEXT + 0x1000 * sorted(good_hw()).index(nth_code(1))


def _files(d, files):
    for name, text in files.items():
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(os.path.join(d, name), mode) as f:
            f.write(text)


def _good(outdir, builddir):
    irq0 = "           CPU0\n  0:         40   IO-APIC   2-edge      timer\nLOC:       1000   Local timer interrupts\nIWI:         10   IRQ work interrupts\n"
    irq1 = irq0.replace("1000", "9000").replace("   10   IRQ", "  500   IRQ")
    for name, secs in (("base", "30.00"), ("boot", "280.00")):
        _files(outdir, {
            f"{name}.cmd": "qemu ...\n", f"{name}.rc": "0\n", f"{name}.secs": secs + "\n",
            f"{name}.stderr": "kvmscope record: 473,786 events in 280.28 s, 1,478,917 bytes in /out/boot.kvms; lost: 0\n"
            if name == "boot" else "",
            f"{name}.qemu-pid": f"{QEMU_PID}\n", f"{name}.qemu-tids": f"{QEMU_PID}\n{VCPU_TID}\n",
            f"{name}.l2up": "307.63\n", f"{name}.t0": "22.10\n",
            f"{name}.kernel-exit": " qemu-system-x86-284  [000] .....   169.710000: kvm_exit: vcpu 0 reason io rip 0xffffffff8100\n",
            f"{name}.l2-serial.log": "=== L2 up: 6.1.0-56-amd64, L2 uptime 137.91s\n[  142.6] reboot: Power down\n",
            f"{name}.hist": cr.make_hist([(VCPU_TID, P.isa, c, n) for c, n in sorted(good_hw().items())],
                                  ("common_pid", "isa", "exit_reason")),
            f"{name}.uhist": cr.make_hist([(c if c >= 0 else 10, 0 if c >= 0 else (1 << 64) + c, n) for c, n in GOOD_VMM.items()],
                                   ("reason", "errno")),
            f"{name}.irq0": irq0, f"{name}.irq1": irq1})
    _files(outdir, {"done.txt": "311.9\n", "version.txt": "kvmscope 0.1.0\n", "l1-kernel.txt": "6.1.0-56-amd64\n",
                    "isa.txt": P.name + "\n"})
    names = {2: "KVM_EXIT_IO", 6: "KVM_EXIT_MMIO", -4: "restart (EINTR)"}
    exits = [{"vm_pid": QEMU_PID, "vcpu": 0, "level": "hardware", "isa": P.name, "code": c, "code_text": P.code_text(c),
              "reason": name, "count": n} for c, (n, name) in GOOD[P.name].items()]
    # The guest code: every exit of a reason at one RIP, the port I/O's at two.
    sites = {(c, GOOD_TEXT + 0x1000 * i): n for i, (c, n) in enumerate(sorted(good_hw().items()))}
    sites[(nth_code(1), io_site())] -= 100
    sites[(nth_code(1), io_site() + 4)] = 100
    _files(outdir, {"boot.riphist": cr.make_hist([(c, rip, n) for (c, rip), n in sorted(sites.items())],
                                                 ("exit_reason", "guest_rip"))})
    with open(os.path.join(outdir, "boot.l2-serial.log"), "a", encoding="utf-8") as f:
        f.write(f"=== L2 kallsyms: {GOOD_TEXT:016x} T _text\n")
    reasons = {}
    for (c, rip), n in sites.items():
        reasons.setdefault(c, []).append({"function": f"f{c}", "count": n, "sites": [{"rip": hex(rip), "count": n}]})
    guest = {"schema": "kvmscope.report/1", "guest_code": {"vms": [{
        "pid": QEMU_PID, "kaslr_offset": hex(GOOD_TEXT - LINK_TEXT), "offset_source": "verified",
        "checkable_rips": 5, "verified_rips": 5, "other_fitting_offsets": 0,
        "exits": {"kernel": sum(good_hw().values()), "early": 0, "user": 0, "other": 0},
        "reasons": [{"level": "hardware", "code": c, "reason": GOOD[P.name][c][1],
                     "count": sum(f["count"] for f in fs), "functions": fs} for c, fs in reasons.items()]}]}}
    live = {"schema": "kvmscope.stat/1", "guest_code": dict(guest["guest_code"], sites_not_stored=0)}
    _files(outdir, {"boot.live": json.dumps(live)})
    exits += [{"vm_pid": QEMU_PID, "vcpu": 0, "level": "vmm", "isa": "none", "code": c if c >= 0 else 0x80000004,
               "code_text": str(c), "reason": names[c], "count": n} for c, n in GOOD_VMM.items()]
    hw, vmm = sum(good_hw().values()), sum(GOOD_VMM.values())
    start = 29.5
    kernel, user, end = 169.71 - start, 307.63 - start, 280.07
    split = [(0.0, kernel, 2000, 10), (kernel, user, hw - 2100, vmm - 20), (user, end, 100, 10)]
    phases = [{"label": label, "start_s": a, "end_s": b, "duration_s": b - a, "hardware_exits": h, "vmm_exits": v}
              for label, (a, b, h, v) in zip(("firmware", "kernel", "userspace"), split)]
    doc = {"schema": "kvmscope.report/1", "target": "command: qemu", "duration_s": 280.2,
           "recording": {"complete": True, "lost_events": 0, "lost_per_cpu": [], "start_monotonic_ns": int(start * 1e9)},
           "totals": {"hardware": hw, "vmm": vmm},
           "health": {"exits_not_stored": 0, "events_lost": 0, "threads_not_stored": 0, "targets_not_stored": 0},
           "vms": [{"pid": QEMU_PID, "name": "l2-boot", "comm": "qemu-system-x86"}], "exits": exits,
           "boots": [{"vm_pid": QEMU_PID, "complete": True, "start": "command_started", "end": "process_exit",
                      "start_s": 0.0, "end_s": end, "duration_s": end, "first_exit_after_s": 11.7,
                      "hardware_exits": hw, "vmm_exits": vmm, "phases": phases}],
           "stream": {"events": 473786, "unknown_events": 0}, "notes": []}
    status = ('<div id="kvmscope-status" data-state="ok" data-charts="4" data-rendered="4">charts drawn: 4 of 4; '
              'timeline-hardware=9000px, timeline-vmm=800px, hist-hardware=700px, hist-vmm=600px</div>')
    _files(builddir, {"boot-report.json": json.dumps(doc), "boot-report.text.rc": "0\n", "boot-report.json.rc": "0\n",
                      "boot-report.txt": f"Hardware exits (kvm:kvm_exit), names\nreason code count\n"
                                         f"total   {hw:,}  100.0%\n\nBoot of VM {QEMU_PID} (l2-boot): 280 s\n",
                      "boot-report.html": "<html>...</html>", "boot-dom.html": f"<html><body>{status}</body></html>",
                      "boot-chromium-dom.log": "", "boot-chromium-screenshot.log": "",
                      "boot-report.png": PNG_MAGIC + b"rest",
                      "boot-guest.json": json.dumps(guest), "boot-guest.rc": "0\n",
                      "boot-guest-dom.html": '<div id="kvmscope-status" data-state="ok" data-charts="2" '
                                             'data-rendered="2">chart-guest-timeline=900px, chart-guest-281-0=800px</div>'})


def _edit(name, fn, where="build"):
    def apply(outdir, builddir):
        d = builddir if where == "build" else outdir
        path = os.path.join(d, name)
        if fn is None:
            os.remove(path)
            return
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(fn(text))
    return apply


def _json(fn):
    def edit(text):
        doc = json.loads(text)
        fn(doc)
        return json.dumps(doc)
    return _edit("boot-report.json", edit)


def _count(i, delta):
    """Change the count of the i-th reason of GOOD (for the profile under test) by delta."""
    def fn(doc):
        code = nth_code(i)
        next(e for e in doc["exits"] if e["level"] == "hardware" and e["code"] == code)["count"] += delta
        doc["totals"]["hardware"] += delta
    return fn


BROKEN = {
    "an interrupt missing from the report": _json(_count(0, -1)),
    "one io exit too many": _json(_count(1, +1)),
    "an io counted as msr (same total)": _json(lambda d: (_count(1, -1)(d), _count(2, +1)(d))),
    "lost events": _json(lambda d: d["recording"].update(lost_events=3)),
    "no trailer": _json(lambda d: d["recording"].update(complete=False)),
    "health events_lost": _json(lambda d: d["health"].update(events_lost=1)),
    "second VM": _json(lambda d: d["vms"].append({"pid": 9, "name": "x", "comm": "x"})),
    "VMM exit missing": _json(lambda d: d["exits"].pop()),
    "boot ends nowhere": _json(lambda d: d["boots"][0].update(end="none", complete=False)),
    "no first exit": _json(lambda d: d["boots"][0].update(first_exit_after_s=None)),
    "no phases": _json(lambda d: d["boots"][0].update(phases=[])),
    "an empty phase": _json(lambda d: d["boots"][0]["phases"][2].update(hardware_exits=0)),
    "no boot summary": _json(lambda d: d.update(boots=[])),
    "report failed": _edit("boot-report.text.rc", lambda t: "1\n"),
    "not JSON": _edit("boot-report.json", lambda t: t[:-10]),
    "text total off": _edit("boot-report.txt", lambda t: re.sub(r"total   [\d,]+", "total   1,234", t)),
    "page pending": _edit("boot-dom.html", lambda t: t.replace('data-state="ok"', 'data-state="pending"')),
    "a chart drew nothing": _edit("boot-dom.html", lambda t: t.replace("hist-vmm=600px", "hist-vmm=0px")),
    "console message": _edit("boot-chromium-dom.log", lambda t: "INFO:CONSOLE(1)] boom\n"),
    "hist dropped": _edit("boot.hist", lambda t: t.replace("Dropped: 0", "Dropped: 2"), "out"),
    "exit from another process": _edit("boot.hist", lambda t: t.replace(f"common_pid: {VCPU_TID:>10}, isa: {P.isa:>10}",
                                                                       f"common_pid: {999:>10}, isa: {P.isa:>10}", 1), "out"),
    "exits of the other ISA": _edit("boot.hist", lambda t: t.replace(f"isa: {P.isa:>10}", f"isa: {3 - P.isa:>10}", 1), "out"),
    "no isa.txt": _edit("isa.txt", None, "out"),
    "record failed": _edit("boot.rc", lambda t: "1\n", "out"),
    "record lost events": _edit("boot.stderr", lambda t: t.replace("lost: 0", "lost: 12"), "out"),
    "L1 died": _edit("done.txt", None, "out"),
    "offset not L2's": _edit("boot-guest.json", lambda t: t.replace('"0x1d000000"', '"0x1d200000"')),
    "an io exit at another RIP": _edit("boot-guest.json", lambda t: t.replace(hex(io_site() + 4), hex(io_site() + 6))),
    "a RIP's count off": _edit("boot.riphist", lambda t: t.replace("hitcount:        100", "hitcount:        101"), "out"),
    "guest report failed": _edit("boot-guest.rc", lambda t: "1\n"),
    "guest page failed": _edit("boot-guest-dom.html", lambda t: t.replace('data-state="ok"', 'data-state="error"')),
    "phases not as marked": _edit("boot.kernel-exit", None, "out"),
    "live: offset not L2's": _edit("boot.live", lambda t: t.replace('"0x1d000000"', '"0x1d200000"'), "out"),
    "live: an io exit at another RIP": _edit("boot.live", lambda t: t.replace(hex(io_site() + 4), hex(io_site() + 6)),
                                             "out"),
    "live: exits not stored": _edit("boot.live", lambda t: t.replace('"sites_not_stored": 0', '"sites_not_stored": 3'),
                                    "out"),
    "live: stat wrote nothing": _edit("boot.live", lambda t: "", "out"),
}


def self_test():
    global P, NAMES
    ok = True
    for profile in exit_isa.PROFILES.values():
        P, NAMES = profile, dict(profile.builtin_names)
        ok &= self_test_isa()
    print("SELF-TEST PASS" if ok else "SELF-TEST FAIL")
    return ok


def self_test_isa():
    global P, NAMES
    profile, ok = P, True
    with tempfile.TemporaryDirectory() as o, tempfile.TemporaryDirectory() as b:
        _good(o, b)
        with contextlib.redirect_stdout(io.StringIO()) as buf:
            res = run_checks(o, b)
            marks = mark_args(marks_for(o, json.loads(read(b, "boot-report.json"))))
        if res.failed or len(res.rows) < 20 or res.warnings:
            print(buf.getvalue())
            print(f"SELF-TEST FAIL ({P.name}): good outputs did not pass ({len(res.rows)} checks)")
            ok = False
        if marks != ["--mark", "0.000=firmware", "--mark", "140.210=kernel", "--mark", "278.130=userspace"]:
            print(f"SELF-TEST FAIL ({P.name}): marks {marks}")
            ok = False
    for label, apply in BROKEN.items():
        P, NAMES = profile, dict(profile.builtin_names)
        with tempfile.TemporaryDirectory() as o, tempfile.TemporaryDirectory() as b:
            _good(o, b)
            apply(o, b)
            with contextlib.redirect_stdout(io.StringIO()):
                res = run_checks(o, b)
            if not res.failed:
                print(f"SELF-TEST FAIL ({profile.name}): broken outputs passed: {label}")
                ok = False
    return ok


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return 0 if self_test() else 1
    if len(argv) == 4 and argv[1] == "--marks":
        try:
            with open(argv[3], encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return 0
        print("\n".join(mark_args(marks_for(argv[2], doc))))
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if run_checks(argv[1], argv[2]).failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
