// TraceDatReader on real trace-cmd recordings (tests/fixtures/tracedat, made by capture.sh there):
// kvm_exit/kvm_entry recorded inside the nested SVM bed's L1 (Debian 6.1, kvm_amd), in both
// trace.dat versions. The numbers are what the guests did (kvmtest 20 5: 20 x {5 CPUID, OUT,
// HLT}; kvmscope guest --vcpus 2 ...) plus the timer interrupt and npf exits the file holds.
#include "tracedat/tracedat_reader.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "model/reason_catalog.h"
#include "util/fd.h"

namespace kvmscope::tracedat {
namespace {

const std::string kDir = std::string(KS_SOURCE_DIR) + "/tests/fixtures/tracedat/";

constexpr std::uint64_t kSvmInterrupt = 0x60, kSvmCpuid = 0x72, kSvmHlt = 0x78, kSvmIo = 0x7b,
                        kSvmMsr = 0x7c, kSvmVmmcall = 0x81, kSvmNpf = 0x400;
constexpr std::uint64_t kKvmExitIo = 2, kKvmExitHlt = 5;

std::uint32_t pid_of(const std::string& name) {
  auto text = util::read_file(kDir + name + ".pid");
  EXPECT_TRUE(text.ok());
  return text.ok() ? static_cast<std::uint32_t>(std::stoul(*text)) : 0;
}

struct Read {
  std::vector<ks_event> events;
  std::string error;
};

Read read_all(TraceDatReader& r) {
  Read out;
  for (;;) {
    auto batch = r.next();
    if (!batch) {
      out.error = batch.error().message();
      break;
    }
    if (batch->empty()) break;
    out.events.insert(out.events.end(), batch->begin(), batch->end());
  }
  return out;
}

// (type, a) -> count, for one tgid (and one vCPU unless `vcpu` is KS_VCPU_UNKNOWN + 1).
std::map<std::pair<int, std::uint64_t>, int> histogram(const std::vector<ks_event>& events,
                                                       std::uint32_t tgid,
                                                       std::uint32_t vcpu = ~0u - 1) {
  std::map<std::pair<int, std::uint64_t>, int> h;
  for (const ks_event& e : events)
    if (e.tgid == tgid && (vcpu == ~0u - 1 || e.vcpu == vcpu)) ++h[{e.type, e.a}];
  return h;
}

void expect_kvmtest(const std::string& file) {
  SCOPED_TRACE(file);
  auto r = TraceDatReader::open(kDir + file + ".dat");
  ASSERT_TRUE(r.ok()) << r.error().message();
  Read got = read_all(*r);
  ASSERT_EQ(got.error, "");
  EXPECT_TRUE(r->complete()) << r->error_detail();
  EXPECT_FALSE(r->truncated());
  EXPECT_EQ(r->lost_total(), 0u);

  const std::uint32_t tgid = pid_of(file);
  auto h = histogram(got.events, tgid);
  EXPECT_EQ((h[{KS_EV_EXIT, kSvmCpuid}]), 100);
  EXPECT_EQ((h[{KS_EV_EXIT, kSvmIo}]), 20);
  EXPECT_EQ((h[{KS_EV_EXIT, kSvmHlt}]), 20);
  EXPECT_EQ((h[{KS_EV_EXIT, kSvmInterrupt}]), 1);  // the timer, once in this short run
  EXPECT_EQ((h[{KS_EV_EXIT, kSvmNpf}]), 1);        // the guest's first touch of its memory
  EXPECT_EQ((h[{KS_EV_ENTRY, 0}]), 142);
  EXPECT_EQ((h[{KS_EV_USERSPACE_EXIT, kKvmExitIo}]), 20);
  EXPECT_EQ((h[{KS_EV_USERSPACE_EXIT, kKvmExitHlt}]), 20);
  EXPECT_EQ((h[{KS_EV_PROCESS_EXIT, 0}]), 1);
  EXPECT_EQ(got.events.size(), 325u);  // nothing else: every event is kvmtest's

  // Every exit is an SVM exit of vCPU 0 with its rip. Entries and exits alternate: the first
  // KVM_RUN enters without an exit before it, the last exit (kvmtest is done) has no entry.
  std::uint64_t last_ts = 0;
  int kvm_events = 0, paired = 0;
  bool in_guest = false;
  for (const ks_event& e : got.events) {
    EXPECT_GE(e.ts_ns, last_ts);
    last_ts = e.ts_ns;
    if (e.type == KS_EV_EXIT) {
      EXPECT_EQ(e.b, KS_ISA_SVM);
      EXPECT_EQ(e.vcpu, 0u);
      EXPECT_NE(e.c, 0u);  // guest rip
      EXPECT_TRUE(in_guest) << "an exit without an entry before it";
      in_guest = false;
      ++kvm_events;
    } else if (e.type == KS_EV_ENTRY) {
      EXPECT_FALSE(in_guest) << "two entries without an exit between them";
      if (kvm_events++ > 0) ++paired;
      in_guest = true;
    }
  }
  EXPECT_EQ(paired, 141);
  EXPECT_FALSE(in_guest);
  EXPECT_EQ(r->info().start_ns, got.events.front().ts_ns);
  ASSERT_TRUE(r->totals().has_value());
  EXPECT_EQ(r->totals()->events, 325u);
  EXPECT_EQ(r->totals()->end_ns, got.events.back().ts_ns);
  ASSERT_TRUE(r->vms().contains(tgid));
  EXPECT_EQ(r->vms().at(tgid).name, "kvmtest");
}

TEST(TraceDatReader, counts_kvmtest_svm_exits_when_file_version_7) {
  expect_kvmtest("kvmtest-v7");
}

TEST(TraceDatReader, counts_kvmtest_svm_exits_when_file_version_6) {
  expect_kvmtest("kvmtest-v6");
}

TEST(TraceDatReader, takes_header_facts_and_format_text_from_the_file) {
  auto r = TraceDatReader::open(kDir + "kvmtest-v7.dat");
  ASSERT_TRUE(r.ok()) << r.error().message();
  const model::RecordingInfo& info = r->info();
  EXPECT_EQ(info.kernel_release, "6.1.0-56-amd64");
  EXPECT_EQ(info.hostname, "(none)");  // L1 has no hostname set
  EXPECT_EQ(info.target, "trace.dat: " + kDir + "kvmtest-v7.dat");
  EXPECT_EQ(info.extra.at("tracedat_version"), "7");
  EXPECT_EQ(info.extra.at("trace_clock"), "local");
  EXPECT_EQ(info.extra.at("source"), "trace.dat");
  EXPECT_NE(info.extra.at("note").find("task:task_newtask"), std::string::npos);

  // Byte for byte the format files of the same L1 kernel, as tracefs showed them.
  const std::string tracefs = std::string(KS_SOURCE_DIR) + "/tests/fixtures/tracefs-6.1-svm/";
  for (const char* event : {"kvm_exit", "kvm_userspace_exit"}) {
    ASSERT_TRUE(info.tracefs_formats.contains(event)) << event;
    auto expected = util::read_file(tracefs + event + ".format");
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(info.tracefs_formats.at(event), *expected) << event;
  }
  auto catalog = model::ReasonCatalog::from_formats(info.tracefs_formats.at("kvm_exit"),
                                                    info.tracefs_formats.at("kvm_userspace_exit"));
  ASSERT_TRUE(catalog.ok()) << catalog.error().message();
  using model::Isa, model::Level;
  EXPECT_EQ(catalog->source(Level::hardware, Isa::svm), model::NameSource::kernel);
  EXPECT_EQ(catalog->source(Level::vmm, Isa::none), model::NameSource::kernel);
  EXPECT_EQ(catalog->name({Level::hardware, Isa::svm, 0x72}), "cpuid");
  EXPECT_EQ(catalog->name({Level::vmm, Isa::none, 2}), "KVM_EXIT_IO");
}

TEST(TraceDatReader, groups_vcpu_threads_into_their_process_when_task_events_are_recorded) {
  auto r = TraceDatReader::open(kDir + "guest-vcpus2.dat");
  ASSERT_TRUE(r.ok()) << r.error().message();
  Read got = read_all(*r);
  EXPECT_TRUE(r->complete()) << r->error_detail();
  const std::uint32_t tgid = pid_of("guest-vcpus2");

  std::map<std::uint32_t, std::uint32_t> vcpu_of_tid;
  for (const ks_event& e : got.events) {
    EXPECT_EQ(e.tgid, tgid) << "type " << int(e.type) << " tid " << e.tid;
    if (e.type == KS_EV_PROCESS_EXIT) continue;
    EXPECT_NE(e.tid, tgid);  // vCPU threads, not the main thread
    auto [it, fresh] = vcpu_of_tid.emplace(e.tid, e.vcpu);
    EXPECT_EQ(it->second, e.vcpu) << "a thread changed vCPU";
  }
  EXPECT_EQ(vcpu_of_tid.size(), 2u);

  for (std::uint32_t vcpu : {0u, 1u}) {
    SCOPED_TRACE(vcpu);
    auto h = histogram(got.events, tgid, vcpu);
    EXPECT_EQ((h[{KS_EV_EXIT, kSvmCpuid}]), 10);
    EXPECT_EQ((h[{KS_EV_EXIT, kSvmIo}]), 3);
    EXPECT_EQ((h[{KS_EV_EXIT, kSvmHlt}]), 2);
    EXPECT_EQ((h[{KS_EV_EXIT, kSvmMsr}]), 2);
    EXPECT_EQ((h[{KS_EV_EXIT, kSvmVmmcall}]), 2);
    EXPECT_EQ((h[{KS_EV_EXIT, kSvmNpf}]), vcpu == 0 ? 2 : 1);
    EXPECT_EQ((h[{KS_EV_EXIT, kSvmInterrupt}]), vcpu == 0 ? 0 : 1);
    EXPECT_EQ((h[{KS_EV_ENTRY, 0}]), 21);
    EXPECT_EQ((h[{KS_EV_USERSPACE_EXIT, kKvmExitIo}]), 3);
    EXPECT_EQ((h[{KS_EV_USERSPACE_EXIT, kKvmExitHlt}]), 2);
    EXPECT_EQ((h[{KS_EV_PIO, 0x10}]), 3);
    EXPECT_EQ((h[{KS_EV_MSR, 0x1a0}]), 2);
    EXPECT_EQ((h[{KS_EV_CPUID, 0}]), 10);
    EXPECT_EQ((h[{KS_EV_HYPERCALL, 0x4b53}]), 2);
  }
  for (const ks_event& e : got.events) {
    if (e.type == KS_EV_PIO) {
      EXPECT_EQ(e.b, 1u);                 // OUT
      EXPECT_EQ(e.c, 1u | (1ull << 32));  // 1 byte, count 1
    }
    if (e.type == KS_EV_MSR) {
      EXPECT_EQ(e.b, 0u);  // RDMSR
    }
  }
  EXPECT_EQ((histogram(got.events, tgid)[{KS_EV_PROCESS_EXIT, 0}]), 1);
  EXPECT_EQ(r->vms().at(tgid).name, "kvmscope");
  for (const std::string& note : r->notes())
    EXPECT_EQ(note.find("no known process"), std::string::npos) << note;
}

TEST(TraceDatReader, says_when_threads_count_as_their_own_process) {
  auto r = TraceDatReader::open(kDir + "kvmtest-v6.dat");
  ASSERT_TRUE(r.ok()) << r.error().message();
  read_all(*r);
  bool said = false;
  for (const std::string& note : r->notes())
    said |= note.find("no known process") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(TraceDatReader, recognises_trace_dat_by_its_magic) {
  EXPECT_TRUE(TraceDatReader::is_tracedat(kDir + "kvmtest-v6.dat"));
  EXPECT_TRUE(TraceDatReader::is_tracedat(kDir + "kvmtest-v7.dat"));
  EXPECT_FALSE(TraceDatReader::is_tracedat(kDir + "capture.sh"));
  EXPECT_FALSE(TraceDatReader::is_tracedat(kDir + "no-such-file"));
}

TEST(TraceDatReader, fails_with_the_os_error_when_the_file_is_missing) {
  auto r = TraceDatReader::open(kDir + "no-such-file.dat");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err, ENOENT);
}

}  // namespace
}  // namespace kvmscope::tracedat
