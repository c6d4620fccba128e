// kvmscope's trace.dat reader against trace-cmd's own (libtracecmd + libtraceevent's kbuffer):
// the same records per CPU, in the same order, with the same timestamps, bytes and lost-event
// flags, and the same field values by name. Skips where libtracecmd is not installed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "model/thread_table.h"
#include "model/tracepoint_events.h"
#include "tracedat/tracedat_meta.h"
#include "tracedat/tracedat_pages.h"
#include "util/fd.h"

#ifdef KS_HAVE_LIBTRACECMD
#include <event-parse.h>

// <trace-cmd.h> does not compile as C++ (the <tracefs.h> it includes passes a plain 0 for an
// enum in inline functions): the calls used here, as libtracecmd 1.3 declares them.
extern "C" {
struct tracecmd_input;
tracecmd_input* tracecmd_open(const char* file, int flags);
void tracecmd_close(tracecmd_input* handle);
tep_handle* tracecmd_get_tep(tracecmd_input* handle);
tep_record* tracecmd_read_data(tracecmd_input* handle, int cpu);
void tracecmd_free_record(tep_record* record);
}
constexpr int kNoPlugins = 1;  // TRACECMD_FL_LOAD_NO_PLUGINS
#endif

namespace kvmscope::tracedat {
namespace {

const std::string kDir = std::string(KS_SOURCE_DIR) + "/tests/fixtures/tracedat/";

#ifdef KS_HAVE_LIBTRACECMD
// A field of a libtraceevent record by name, as trace-cmd report reads it.
std::uint64_t tep_field(tep_handle* tep, tep_record* rec, const char* name) {
  tep_event* event = tep_find_event(tep, tep_data_type(tep, rec));
  tep_format_field* f = event ? tep_find_field(event, name) : nullptr;
  unsigned long long v = 0;
  if (f == nullptr || tep_read_number_field(f, rec->data, &v) != 0) ADD_FAILURE() << name;
  return v;
}

void compare(const std::string& path, std::size_t min_records) {
  SCOPED_TRACE(path);
  auto fd = util::Fd::open(path, O_RDONLY);
  ASSERT_TRUE(fd.ok());
  struct stat st {};
  ASSERT_EQ(::fstat(fd->get(), &st), 0);
  auto meta = read_tracedat_meta(fd->get(), path, {});
  ASSERT_TRUE(meta.ok()) << meta.error().message();
  tracecmd_input* h = tracecmd_open(path.c_str(), kNoPlugins);
  ASSERT_NE(h, nullptr);
  tep_handle* tep = tracecmd_get_tep(h);
  model::ThreadTable threads;
  model::TracepointEvents events(*meta, threads);

  std::size_t records = 0, mapped = 0;
  const TraceDatBuffer& top = meta->buffers.at(0);
  for (const TraceDatCpuData& d : top.cpus) {
    TdCpuStream mine(fd->get(), static_cast<std::uint64_t>(st.st_size), *meta, top, d);
    for (;;) {
      tep_record* theirs = tracecmd_read_data(h, static_cast<int>(d.cpu));
      TdRecord r;
      const bool have = mine.next(r);
      ASSERT_EQ(have, theirs != nullptr) << "CPU " << d.cpu << " record " << records;
      if (!have) break;
      ++records;
      EXPECT_EQ(r.ts, theirs->ts);
      ASSERT_EQ(r.data.size(), static_cast<std::size_t>(theirs->size));
      EXPECT_EQ(std::memcmp(r.data.data(), theirs->data, r.data.size()), 0);
      const long long missed =
          r.missed == TdRecord::kUnknown ? -1 : static_cast<long long>(r.missed);
      EXPECT_EQ(missed, theirs->missed_events);

      ks_event e;
      if (events.map(r.data, static_cast<std::uint16_t>(d.cpu), e)) {
        ++mapped;
        EXPECT_EQ(e.tid, static_cast<std::uint32_t>(tep_data_pid(tep, theirs)));
        if (e.type == KS_EV_EXIT) {
          EXPECT_EQ(e.a, tep_field(tep, theirs, "exit_reason"));
          EXPECT_EQ(e.b, tep_field(tep, theirs, "isa"));
          EXPECT_EQ(e.c, tep_field(tep, theirs, "guest_rip"));
          EXPECT_EQ(e.vcpu, tep_field(tep, theirs, "vcpu_id"));
        } else if (e.type == KS_EV_USERSPACE_EXIT) {
          EXPECT_EQ(e.a, tep_field(tep, theirs, "reason"));
        } else if (e.type == KS_EV_PIO) {
          EXPECT_EQ(e.a, tep_field(tep, theirs, "port"));
        } else if (e.type == KS_EV_HYPERCALL) {
          EXPECT_EQ(e.a, tep_field(tep, theirs, "nr"));
        }
      }
      tracecmd_free_record(theirs);
    }
  }
  EXPECT_GE(records, min_records);
  EXPECT_GT(mapped, 0u);
  EXPECT_EQ(events.damaged(), 0u);
  tracecmd_close(h);
}
#endif

TEST(TraceDatOracle, reads_every_record_as_libtracecmd_does) {
#ifndef KS_HAVE_LIBTRACECMD
  GTEST_SKIP() << "libtracecmd is not installed (libtracecmd-dev): no reference reader";
#else
  compare(kDir + "kvmtest-v6.dat", 325);
  compare(kDir + "kvmtest-v7.dat", 325);
  compare(kDir + "guest-vcpus2.dat", 130);
#endif
}

// Any trace.dat given in KS_TRACEDAT_ORACLE_FILES (colon-separated), e.g. a long host recording.
TEST(TraceDatOracle, reads_the_files_given_in_the_environment_as_libtracecmd_does) {
  const char* files = std::getenv("KS_TRACEDAT_ORACLE_FILES");
  if (files == nullptr || *files == '\0') GTEST_SKIP() << "KS_TRACEDAT_ORACLE_FILES is not set";
#ifndef KS_HAVE_LIBTRACECMD
  GTEST_SKIP() << "libtracecmd is not installed (libtracecmd-dev): no reference reader";
#else
  std::string list = files;
  for (std::size_t pos = 0; pos <= list.size();) {
    std::size_t end = list.find(':', pos);
    if (end == std::string::npos) end = list.size();
    if (end > pos) compare(list.substr(pos, end - pos), 1);
    pos = end + 1;
  }
#endif
}

}  // namespace
}  // namespace kvmscope::tracedat
