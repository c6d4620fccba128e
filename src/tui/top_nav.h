// Where `kvmscope top` is: the list of VMs, one VM (its vCPUs and reasons), or one vCPU (its
// reasons), and which row is selected at each level. A selection is a row's identity (PID, vCPU
// id or reason), never a position: it follows its row when the rows re-sort. While its row is
// not shown (filtered out, no count since a reset, gone), the row now at its position stands
// in, followed by identity too, and the chosen row is selected again when it is back. Pure: the
// rows come from TopModel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tui/top_view.h"

namespace kvmscope::tui {

enum class TopLevel { vms = 0, vm = 1, vcpu = 2 };

class TopNav {
 public:
  TopLevel level() const { return level_; }
  std::uint32_t vm() const { return vm_; }      // the VM opened (levels vm and vcpu)
  std::uint32_t vcpu() const { return vcpu_; }  // the vCPU opened (level vcpu)
  std::size_t cursor() const { return sel_[index(level_)].index; }
  std::size_t rows() const { return keys_[index(level_)].size(); }  // selectable at this level

  // Matches the selection to fresh rows. When the VM that is open has left the list, goes back
  // to the list of VMs and returns a message saying so.
  std::optional<std::string> sync(const TopModel& model, TopSort sort, const TopFilter& filter);

  void move(long delta);  // clamped to the rows
  void home() { move(-static_cast<long>(rows())); }
  void end() { move(static_cast<long>(rows())); }
  // Opens the selected VM or vCPU; false where there is nothing to open (a vCPU's reasons).
  bool enter();
  // One level up; false on the list of VMs.
  bool back();

 private:
  struct Selection {
    std::optional<std::uint64_t> chosen;  // the row the user selected (or the first one shown)
    std::optional<std::uint64_t> shown;   // the row highlighted: `chosen`, or its stand-in
    std::size_t index = 0;                // of `shown` in the rows
  };
  static std::size_t index(TopLevel level) { return static_cast<std::size_t>(level); }
  void resolve(TopLevel level);

  TopLevel level_ = TopLevel::vms;
  std::uint32_t vm_ = 0;
  std::uint32_t vcpu_ = 0;
  std::array<std::vector<std::uint64_t>, 3> keys_;  // row ids per level, in display order
  std::array<Selection, 3> sel_;
};

}  // namespace kvmscope::tui
