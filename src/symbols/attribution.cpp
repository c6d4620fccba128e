#include "symbols/attribution.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace kvmscope::symbols {

namespace {

// The offset for one VM: given, implied by runtime symbols, searched in the code, or guessed.
KaslrOffset find_offset(const GuestKernel& k, std::span<const ExitSite> sites) {
  KaslrOffset found;
  if (k.offset) {
    found.how = KaslrOffset::How::given;
    found.offset = *k.offset;
  } else if (k.image) {
    found = search_kaslr_offset(*k.image, sites);
  } else if (k.symbols && k.symbols->runtime_addresses()) {
    found.how = KaslrOffset::How::kallsyms;
    found.offset = k.symbols->text_start() - kLinkTextX86;
  } else if (k.symbols) {
    found = kaslr_heuristic(*k.symbols, sites);
  }
  // With code, the count of fitting RIPs is said whatever gave the offset.
  if (k.image && found.how != KaslrOffset::How::verified) {
    const auto [fit, checkable] = verify_offset(*k.image, sites, found.offset);
    found.verified = fit;
    found.checkable = checkable;
  }
  return found;
}

bool by_count(const model::ExitStats& a, const std::string& an, const model::ExitStats& b,
              const std::string& bn) {
  return a.count != b.count ? a.count > b.count : an < bn;
}

std::string symbols_desc(const GuestKernel& k) {
  return k.symbols ? std::string(k.symbols->kind_name()) + " " + k.symbols_path
                   : std::string("none");
}

}  // namespace

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

Attribution attribute(const model::GuestSites& all, const GuestKernels& kernels) {
  Attribution out;
  out.symbols_desc = symbols_desc(kernels.all);
  if (kernels.all.image) out.image_desc = kernels.all.image_path;
  out.sites_not_stored = all.sites_not_stored();

  std::map<std::uint32_t, std::vector<std::pair<model::SiteKey, const model::SiteStats*>>> per_vm;
  for (const auto& [key, s] : all.entries()) per_vm[key.vm_pid].push_back({key, &s});

  for (const auto& [pid, rows] : per_vm) {
    const GuestKernel& k = kernels.of(pid);
    VmAttribution vm;
    vm.vm_pid = pid;
    vm.symbols_desc = symbols_desc(k);
    if (k.image) vm.image_desc = k.image_path;
    std::vector<ExitSite> sites;
    for (const auto& [key, s] : rows)
      if (!key.other) sites.push_back({key.reason, key.rip, s->detail, s->stats.count});
    vm.offset = find_offset(k, sites);
    // Runtime symbols are looked up as they are; link-time ones at the RIP less the offset.
    const std::uint64_t shift = k.symbols && !k.symbols->runtime_addresses() ? vm.offset.offset : 0;

    std::map<model::Reason, std::map<std::string, FunctionRow>> functions;
    for (const auto& [key, s] : rows) {
      FunctionRow row;
      SiteRow site{key.rip, hex(key.rip), s->stats};
      row.space = key.space;
      if (key.other) {
        row.name = "[other RIPs]";
        row.other = true;
        vm.other_exits += s->stats.count;
      } else if (key.space == model::GuestSpace::early) {
        row.name = "[firmware/early boot]";
        vm.early_exits += s->stats.count;
      } else if (key.space == model::GuestSpace::user) {
        row.name = "[user]";
        vm.user_exits += s->stats.count;
      } else {
        vm.kernel_exits += s->stats.count;
        const SymbolLookup l = k.symbols ? k.symbols->find(key.rip - shift) : SymbolLookup{};
        if (l.symbol) {
          row.name = l.symbol->name;
          row.module = l.symbol->module;
          site.where = l.symbol->name + "+" + hex(l.offset);
        } else {
          row.name = hex(key.rip);
          vm.unsymbolized_kernel_exits += s->stats.count;
        }
      }
      const std::string id = row.name + "\n" + row.module;
      FunctionRow& f = functions[key.reason].try_emplace(id, std::move(row)).first->second;
      f.stats += s->stats;
      f.sites.push_back(std::move(site));
    }
    for (auto& [reason, fmap] : functions) {
      ReasonFunctions rf;
      rf.reason = reason;
      for (auto& [id, f] : fmap) {
        std::sort(f.sites.begin(), f.sites.end(), [](const SiteRow& a, const SiteRow& b) {
          return a.stats.count != b.stats.count ? a.stats.count > b.stats.count : a.rip < b.rip;
        });
        rf.total += f.stats;
        rf.functions.push_back(std::move(f));
      }
      std::sort(rf.functions.begin(), rf.functions.end(),
                [](const FunctionRow& a, const FunctionRow& b) {
                  if (a.other != b.other) return b.other;  // `other` last
                  return by_count(a.stats, a.name, b.stats, b.name);
                });
      vm.reasons.push_back(std::move(rf));
    }
    std::sort(vm.reasons.begin(), vm.reasons.end(),
              [](const ReasonFunctions& a, const ReasonFunctions& b) {
                return a.total.count != b.total.count ? a.total.count > b.total.count
                                                      : a.reason < b.reason;
              });
    out.vms.push_back(std::move(vm));
  }
  return out;
}

FunctionSeries function_series(const Attribution& a, std::size_t max) {
  std::map<std::string, std::uint64_t> totals;
  for (const VmAttribution& vm : a.vms)
    for (const ReasonFunctions& r : vm.reasons)
      for (const FunctionRow& f : r.functions)
        if (!f.other) totals[f.name] += f.stats.count;
  std::vector<std::pair<std::string, std::uint64_t>> order(totals.begin(), totals.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });
  if (order.size() > max) order.resize(max);
  FunctionSeries fs;
  std::map<std::string, std::uint32_t> id;
  for (const auto& [name, n] : order) {
    id[name] = static_cast<std::uint32_t>(fs.names.size());
    fs.names.push_back(name);
  }
  fs.names.push_back("other");
  for (const VmAttribution& vm : a.vms)
    for (const ReasonFunctions& r : vm.reasons)
      for (const FunctionRow& f : r.functions)
        if (const auto it = id.find(f.name); it != id.end() && !f.other)
          for (const SiteRow& s : f.sites) fs.of_rip[{vm.vm_pid, s.rip}] = it->second;
  return fs;
}

}  // namespace kvmscope::symbols
