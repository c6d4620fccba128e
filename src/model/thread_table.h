// Which process (tgid) and vCPU each thread of a trace belongs to. trace-cmd's trace.dat records
// only the thread id of an event (common_pid) and saves no thread -> process map (3.1 has no
// saved_tgids option; saved_cmdlines maps pids to names only). What a file can say, and is
// learnt here:
//   task:task_newtask   clone_flags has CLONE_THREAD: the child is in its creator's process,
//                       otherwise it leads a new one;
//   sched:sched_process_exec   the exec'ing task leads its process from then on;
//   the PROCMAPS option (record -F/-P --proc-map)   pids of the traced processes;
//   perf.data's samples and FORK records, which carry the process id: joins().
// A thread none of these covers counts as its own process (tgid = tid), a thread made by an
// unknown one as its creator's; both are counted as guessed.
#pragma once

#include <cstdint>
#include <unordered_map>

namespace kvmscope::model {

class ThreadTable {
 public:
  // Threads remembered at most (pid_max is 4M at most; a file of more distinct live threads
  // than this loses tgid knowledge for the rest rather than memory).
  static constexpr std::size_t kMaxThreads = 1u << 20;
  static constexpr std::uint64_t kCloneThread = 0x00010000;  // CLONE_THREAD

  void leads_process(std::uint32_t pid);
  // The file says which process the thread is in (perf.data's samples and FORK records do).
  void joins(std::uint32_t tid, std::uint32_t tgid);
  void new_task(std::uint32_t parent_tid, std::uint32_t child_tid, std::uint64_t clone_flags);
  // The thread's process; its own id when not known (then counted in guessed_threads()).
  std::uint32_t tgid(std::uint32_t tid);
  // The same without guessing for later: a thread never seen is its own process.
  std::uint32_t tgid_or_self(std::uint32_t tid) const;
  bool known(std::uint32_t tid) const;
  void set_vcpu(std::uint32_t tid, std::uint32_t vcpu);
  std::uint32_t vcpu(std::uint32_t tid) const;  // KS_VCPU_UNKNOWN if never seen
  // The thread ended: its id may be reused by an unrelated task.
  void exited(std::uint32_t tid);

  std::uint64_t guessed_threads() const { return guessed_; }
  std::uint64_t learnt_threads() const { return learnt_; }

 private:
  struct Thread {
    std::uint32_t tgid = 0;  // 0: not known
    std::uint32_t vcpu;
    bool guessed = false;  // tgid is the thread's own id or its creator's, not known
    bool counted = false;  // in guessed_ already
  };
  Thread* slot(std::uint32_t tid);

  std::unordered_map<std::uint32_t, Thread> threads_;
  std::uint64_t guessed_ = 0;
  std::uint64_t learnt_ = 0;
};

}  // namespace kvmscope::model
