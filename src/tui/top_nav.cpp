#include "tui/top_nav.h"

#include <algorithm>

namespace kvmscope::tui {

namespace {

std::uint64_t reason_id(const model::Reason& r) {
  return (static_cast<std::uint64_t>(r.level) << 48) | (static_cast<std::uint64_t>(r.isa) << 32) |
         r.code;
}

}  // namespace

std::optional<std::string> TopNav::sync(const TopModel& model, TopSort sort,
                                        const TopFilter& filter) {
  std::optional<std::string> message;
  if (level_ != TopLevel::vms && !model.vm(vm_)) {
    message = "VM " + std::to_string(vm_) + " has ended and left the list";
    level_ = TopLevel::vms;
  }
  for (auto& keys : keys_) keys.clear();
  for (const TopVm& vm : model.vms(sort, filter)) keys_[index(TopLevel::vms)].push_back(vm.pid);
  if (level_ != TopLevel::vms)
    for (const TopVcpu& v : model.vcpus(vm_, sort)) keys_[index(TopLevel::vm)].push_back(v.vcpu);
  if (level_ == TopLevel::vcpu)
    for (const TopReason& r : model.reasons(vm_, vcpu_, sort))
      keys_[index(TopLevel::vcpu)].push_back(reason_id(r.reason));
  for (TopLevel l : {TopLevel::vms, TopLevel::vm, TopLevel::vcpu})
    if (index(l) <= index(level_)) resolve(l);
  return message;
}

void TopNav::resolve(TopLevel level) {
  const auto& keys = keys_[index(level)];
  Selection& sel = sel_[index(level)];
  auto find = [&](const std::optional<std::uint64_t>& key) {
    return key ? std::find(keys.begin(), keys.end(), *key) : keys.end();
  };
  auto at = find(sel.chosen);
  if (at == keys.end()) at = find(sel.shown);
  if (at == keys.end() && !keys.empty()) {
    // Neither is shown: the row at the same position stands in from now on.
    at = keys.begin() + static_cast<long>(std::min(sel.index, keys.size() - 1));
  }
  if (at == keys.end()) {  // no rows: the choice is kept for when they are back
    sel.shown.reset();
    sel.index = 0;
    return;
  }
  sel.index = static_cast<std::size_t>(at - keys.begin());
  sel.shown = *at;
  if (!sel.chosen) sel.chosen = *at;
}

void TopNav::move(long delta) {
  const auto& keys = keys_[index(level_)];
  Selection& sel = sel_[index(level_)];
  if (keys.empty()) return;
  const long last = static_cast<long>(keys.size()) - 1;
  const long to = std::clamp(static_cast<long>(sel.index) + delta, 0L, last);
  sel.index = static_cast<std::size_t>(to);
  sel.chosen = sel.shown = keys[sel.index];
}

bool TopNav::enter() {
  const auto& keys = keys_[index(level_)];
  if (level_ == TopLevel::vcpu || keys.empty()) return false;
  const auto selected = static_cast<std::uint32_t>(keys[cursor()]);
  if (level_ == TopLevel::vms) {
    vm_ = selected;
    level_ = TopLevel::vm;
  } else {
    vcpu_ = selected;
    level_ = TopLevel::vcpu;
  }
  sel_[index(level_)] = {};  // a newly opened VM or vCPU starts at its first row
  keys_[index(level_)].clear();
  return true;
}

bool TopNav::back() {
  if (level_ == TopLevel::vms) return false;
  level_ = level_ == TopLevel::vcpu ? TopLevel::vm : TopLevel::vms;
  return true;
}

}  // namespace kvmscope::tui
