#include "model/thread_table.h"

#include "bpf/kvmscope_bpf.h"

namespace kvmscope::model {

ThreadTable::Thread* ThreadTable::slot(std::uint32_t tid) {
  auto it = threads_.find(tid);
  if (it != threads_.end()) return &it->second;
  if (threads_.size() >= kMaxThreads) return nullptr;
  return &threads_.emplace(tid, Thread{0, KS_VCPU_UNKNOWN, false, false}).first->second;
}

void ThreadTable::leads_process(std::uint32_t pid) {
  if (Thread* t = slot(pid)) {
    if (t->tgid != pid || t->guessed) ++learnt_;
    t->tgid = pid;
    t->guessed = false;
  }
}

void ThreadTable::joins(std::uint32_t tid, std::uint32_t tgid) {
  if (Thread* t = slot(tid)) {
    if (t->tgid == tgid && !t->guessed) return;
    ++learnt_;
    t->tgid = tgid;
    t->guessed = false;
  }
}

void ThreadTable::new_task(std::uint32_t parent_tid, std::uint32_t child_tid,
                           std::uint64_t clone_flags) {
  if (!(clone_flags & kCloneThread)) {
    leads_process(child_tid);
    return;
  }
  // A thread of its creator's process. Where that process is not known either, the creator is
  // taken to lead it (QEMU's main thread makes the vCPU threads): still a guess, flagged so.
  auto parent = threads_.find(parent_tid);
  const bool parent_known =
      parent != threads_.end() && parent->second.tgid != 0 && !parent->second.guessed;
  if (Thread* t = slot(child_tid)) {
    *t = Thread{parent_known ? parent->second.tgid : parent_tid, KS_VCPU_UNKNOWN, !parent_known,
                false};
    if (parent_known) ++learnt_;
  }
}

std::uint32_t ThreadTable::tgid(std::uint32_t tid) {
  Thread* t = slot(tid);
  if (t == nullptr) return tid;
  if (t->tgid == 0) {
    t->tgid = tid;
    t->guessed = true;
  }
  if (t->guessed && !t->counted) {
    t->counted = true;
    ++guessed_;
  }
  return t->tgid;
}

std::uint32_t ThreadTable::tgid_or_self(std::uint32_t tid) const {
  auto it = threads_.find(tid);
  return it != threads_.end() && it->second.tgid != 0 ? it->second.tgid : tid;
}

bool ThreadTable::known(std::uint32_t tid) const {
  auto it = threads_.find(tid);
  return it != threads_.end() && it->second.tgid != 0 && !it->second.guessed;
}

void ThreadTable::set_vcpu(std::uint32_t tid, std::uint32_t vcpu) {
  if (Thread* t = slot(tid)) t->vcpu = vcpu;
}

std::uint32_t ThreadTable::vcpu(std::uint32_t tid) const {
  auto it = threads_.find(tid);
  return it == threads_.end() ? KS_VCPU_UNKNOWN : it->second.vcpu;
}

void ThreadTable::exited(std::uint32_t tid) {
  threads_.erase(tid);
}

}  // namespace kvmscope::model
