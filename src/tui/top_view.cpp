#include "tui/top_view.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace kvmscope::tui {

namespace {

std::uint64_t minus(std::uint64_t later, std::uint64_t earlier) {
  return later > earlier ? later - earlier : 0;
}

// What a sort orders by, largest first; the other numbers break ties so the order is stable
// before the first interval (when every rate is 0).
std::tuple<std::uint64_t, std::uint64_t, std::uint64_t> sort_key(const TopStats& s, TopSort sort) {
  switch (sort) {
    case TopSort::rate:
      return {s.interval.count, s.total.count, 0};
    case TopSort::count:
      return {s.total.count, s.interval.count, 0};
    case TopSort::time:
      // Hardware handling time includes the VMM's part where both exist, so it leads.
      return {s.hw_time_ns, s.vmm_time_ns, s.interval.count};
  }
  return {};
}

template <class Row, class Id>
void sort_rows(std::vector<Row>& rows, TopSort sort, Id id) {
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    const auto ka = sort_key(a.stats, sort), kb = sort_key(b.stats, sort);
    if (ka != kb) return ka > kb;
    return id(a) < id(b);
  });
}

}  // namespace

const char* top_sort_name(TopSort sort) {
  switch (sort) {
    case TopSort::rate:
      return "rate";
    case TopSort::count:
      return "count";
    case TopSort::time:
      return "time";
  }
  return "?";
}

void TopStats::add(model::Level level, const model::ExitStats& interval_part,
                   const model::ExitStats& total_part) {
  interval += interval_part;
  total += total_part;
  if (level == model::Level::hardware) {
    hw_count += interval_part.count;
    hw_time_ns += interval_part.time_ns;
    hw_total += total_part.count;
    hw_timed_total += total_part.timed;
  } else {
    vmm_count += interval_part.count;
    vmm_time_ns += interval_part.time_ns;
    vmm_total += total_part.count;
    vmm_timed_total += total_part.timed;
  }
}

model::ExitStats stats_minus(const model::ExitStats& later, const model::ExitStats& earlier) {
  model::ExitStats d;
  d.count = minus(later.count, earlier.count);
  d.timed = minus(later.timed, earlier.timed);
  d.time_ns = minus(later.time_ns, earlier.time_ns);
  d.max_ns = later.max_ns;
  for (std::size_t i = 0; i < model::kHistogramSlots; ++i)
    d.hist.slots[i] = minus(later.hist.slots[i], earlier.hist.slots[i]);
  return d;
}

double time_share(std::uint64_t time_ns, std::uint64_t interval_ns, std::uint32_t vcpus) {
  if (interval_ns == 0) return 0.0;
  return static_cast<double>(time_ns) /
         (static_cast<double>(interval_ns) * static_cast<double>(vcpus ? vcpus : 1));
}

void TopModel::update(model::Snapshot snapshot, const std::function<bool(std::uint32_t)>& alive) {
  ++updates_;
  previous_ = std::move(latest_);
  latest_ = std::move(snapshot);

  rows_.clear();
  std::set<std::uint32_t> pids;
  for (const auto& [key, stats] : latest_->exits) {
    Row row;
    if (previous_) {
      const auto before = previous_->exits.find(key);
      row.interval = before == previous_->exits.end() ? stats : stats_minus(stats, before->second);
    }
    const auto base = baseline_.find(key);
    row.total = base == baseline_.end() ? stats : stats_minus(stats, base->second);
    // The first snapshot has no interval: its exits since the start count as activity.
    if ((previous_ ? row.interval.count : stats.count) > 0) last_active_[key.vm_pid] = updates_;
    rows_.emplace(key, row);
    pids.insert(key.vm_pid);
  }

  listed_.clear();
  for (std::uint32_t pid : pids) {
    const auto active = last_active_.find(pid);
    const bool exited_now = active != last_active_.end() && active->second == updates_;
    if (exited_now) {  // new exits: a VM again (a new process with that pid)
      gone_.erase(pid);
      ended_.erase(pid);
    }
    if (gone_.count(pid)) continue;
    const bool is_alive = alive(pid);
    const bool quiet =
        active == last_active_.end() || updates_ - active->second >= std::max(linger_, 1u);
    if (!is_alive && quiet) {
      gone_[pid] = true;
      ended_[pid] = {updates_, {pid, vm_info(pid), vm_stats(pid).total.count}};
      continue;
    }
    listed_[pid] = is_alive;
  }
}

void TopModel::reset_counts() {
  if (!latest_) return;
  fn_baseline_ = fn_latest_;
  baseline_ = latest_->exits;
  baseline_taken_ns_ = latest_->taken_ns;
  for (auto& [key, row] : rows_) row.total = model::ExitStats{};
  ended_.clear();
}

std::string TopModel::function_note(std::uint32_t pid) const {
  const auto it = fn_notes_.find(pid);
  return it == fn_notes_.end() ? std::string() : it->second;
}

void TopModel::update_functions(const std::vector<FunctionCount>& counts,
                                std::map<std::uint32_t, std::string> notes) {
  fn_notes_ = std::move(notes);
  fn_has_previous_ = functions_;
  functions_ = true;
  fn_previous_ = std::move(fn_latest_);
  fn_latest_.clear();
  for (const FunctionCount& c : counts) {
    FunctionNumbers& n = fn_latest_[{c.vm_pid, c.reason, c.function}];
    n.count += c.count;
    n.timed += c.timed;
    n.time_ns += c.time_ns;
  }
}

std::vector<TopFunction> TopModel::functions(std::uint32_t pid, std::size_t per_reason) const {
  const auto since = [](const std::map<FunctionKey, FunctionNumbers>& m, const FunctionKey& k) {
    const auto it = m.find(k);
    return it == m.end() ? FunctionNumbers{} : it->second;
  };
  std::map<model::Reason, std::vector<TopFunction>> by_reason;
  std::map<model::Reason, std::uint64_t> reason_totals;
  for (auto it = fn_latest_.lower_bound(FunctionKey{pid, {}, {}});
       it != fn_latest_.end() && it->first.vm_pid == pid; ++it) {
    const FunctionNumbers base = since(fn_baseline_, it->first);
    TopFunction f;
    f.reason = it->first.reason;
    f.function = it->first.function;
    f.total = minus(it->second.count, base.count);
    f.timed = minus(it->second.timed, base.timed);
    f.time_ns = minus(it->second.time_ns, base.time_ns);
    // The first update has no interval, as the exit rows (rates need two).
    if (fn_has_previous_)
      f.interval = minus(it->second.count, since(fn_previous_, it->first).count);
    if (f.total == 0) continue;
    reason_totals[f.reason] += f.total;
    by_reason[f.reason].push_back(std::move(f));
  }
  std::vector<std::pair<std::uint64_t, model::Reason>> order;
  order.reserve(reason_totals.size());
  for (const auto& [reason, total] : reason_totals) order.emplace_back(total, reason);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<TopFunction> out;
  for (const auto& [total, reason] : order) {
    auto& fns = by_reason[reason];
    std::stable_sort(fns.begin(), fns.end(),
                     [](const TopFunction& a, const TopFunction& b) { return a.total > b.total; });
    for (std::size_t i = 0; i < fns.size() && i < per_reason; ++i) {
      fns[i].reason_total = total;
      out.push_back(std::move(fns[i]));
    }
  }
  return out;
}

std::uint64_t TopModel::interval_ns() const {
  if (!latest_ || !previous_) return 0;
  return minus(latest_->taken_ns, previous_->taken_ns);
}

std::uint64_t TopModel::since_ns() const {
  if (!latest_) return 0;
  return minus(latest_->taken_ns, baseline_taken_ns_ ? baseline_taken_ns_ : latest_->started_ns);
}

model::CollectorHealth TopModel::health() const {
  return latest_ ? latest_->health : model::CollectorHealth{};
}

TopStats TopModel::vm_stats(std::uint32_t pid) const {
  TopStats s;
  // Keys are ordered by pid first: the VM's rows are one range.
  for (auto it = rows_.lower_bound(model::ExitKey{pid, 0, {}});
       it != rows_.end() && it->first.vm_pid == pid; ++it)
    s.add(it->first.reason.level, it->second.interval, it->second.total);
  return s;
}

model::VmInfo TopModel::vm_info(std::uint32_t pid) const {
  const auto info = latest_->vms.find(pid);
  return info == latest_->vms.end() ? model::VmInfo{} : info->second;
}

std::optional<TopVm> TopModel::vm(std::uint32_t pid) const {
  const auto listed = listed_.find(pid);
  if (listed == listed_.end()) return std::nullopt;
  TopVm vm;
  vm.pid = pid;
  vm.alive = listed->second;
  vm.info = vm_info(pid);
  std::set<std::uint32_t> vcpus;
  for (auto it = rows_.lower_bound(model::ExitKey{pid, 0, {}});
       it != rows_.end() && it->first.vm_pid == pid; ++it)
    if (it->first.vcpu != model::kUnknownVcpu) vcpus.insert(it->first.vcpu);
  vm.vcpus = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(vcpus.size()));
  vm.stats = vm_stats(pid);
  return vm;
}

std::vector<TopVm> TopModel::vms(TopSort sort, const TopFilter& filter) const {
  std::vector<TopVm> out;
  for (const auto& [pid, is_alive] : listed_) {
    auto vm = this->vm(pid);
    if (vm && filter.matches(pid, vm->info)) out.push_back(std::move(*vm));
  }
  sort_rows(out, sort, [](const TopVm& v) { return v.pid; });
  return out;
}

std::vector<TopVcpu> TopModel::vcpus(std::uint32_t pid, TopSort sort) const {
  std::map<std::uint32_t, TopStats> grouped;
  for (auto it = rows_.lower_bound(model::ExitKey{pid, 0, {}});
       it != rows_.end() && it->first.vm_pid == pid; ++it)
    grouped[it->first.vcpu].add(it->first.reason.level, it->second.interval, it->second.total);
  std::vector<TopVcpu> out;
  out.reserve(grouped.size());
  for (const auto& [vcpu, stats] : grouped) out.push_back({vcpu, stats});
  sort_rows(out, sort, [](const TopVcpu& v) { return v.vcpu; });
  return out;
}

std::vector<TopReason> TopModel::reasons(std::uint32_t pid, std::optional<std::uint32_t> vcpu,
                                         TopSort sort) const {
  std::map<model::Reason, TopStats> grouped;
  for (auto it = rows_.lower_bound(model::ExitKey{pid, 0, {}});
       it != rows_.end() && it->first.vm_pid == pid; ++it) {
    if (vcpu && it->first.vcpu != *vcpu) continue;
    grouped[it->first.reason].add(it->first.reason.level, it->second.interval, it->second.total);
  }
  std::vector<TopReason> out;
  for (const auto& [reason, stats] : grouped)
    if (stats.total.count > 0) out.push_back({reason, stats});  // none since the reset: no row
  sort_rows(out, sort, [](const TopReason& r) { return r.reason; });
  return out;
}

std::vector<TopEndedVm> TopModel::ended() const {
  std::vector<const Ended*> order;
  order.reserve(ended_.size());
  for (const auto& [pid, e] : ended_) order.push_back(&e);
  // Stable: pids that left at the same refresh stay in pid order.
  std::stable_sort(order.begin(), order.end(),
                   [](const Ended* a, const Ended* b) { return a->update > b->update; });
  std::vector<TopEndedVm> out;
  out.reserve(order.size());
  for (const Ended* e : order) out.push_back(e->vm);
  return out;
}

TopStats TopModel::host() const {
  TopStats s;
  for (const auto& [key, row] : rows_)
    if (listed_.count(key.vm_pid)) s.add(key.reason.level, row.interval, row.total);
  return s;
}

}  // namespace kvmscope::tui
