// `kvmscope top`'s frames as plain lines: the screen (sized to the terminal, with styles the
// curses front end maps to attributes) and the batch frame (every row, for scripts and logs).
// Pure: no curses, no clock; what to draw is decided here and tested against strings.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "model/reason_catalog.h"
#include "tui/top_controller.h"
#include "tui/top_view.h"

namespace kvmscope::tui {

enum class Style { plain, title, header, selected, status, footer };

struct Line {
  std::string text;
  Style style = Style::plain;
  bool operator==(const Line&) const = default;
};

struct FrameInfo {
  std::string clock;         // wall-clock time of the frame, "12:34:56"
  std::string target;        // "all VMs on this host", "pid 4242"
  bool counts_only = false;  // --counts-only: nothing is timed; a note line says so
};

// The screen: at most `height` lines, none longer than `width` bytes.
std::vector<Line> top_screen(const tui::TopModel& model, const TopController& state,
                             const model::ReasonCatalog& catalog, const FrameInfo& info, int width,
                             int height);

// One batch frame: the summary, the VMs, then per VM its vCPUs and reasons; ends with a blank
// line.
void write_batch_frame(const tui::TopModel& model, tui::TopSort sort, const tui::TopFilter& filter,
                       const model::ReasonCatalog& catalog, double interval_s,
                       const FrameInfo& info, std::ostream& out);

// The help screen's text (also what `?` shows).
std::vector<std::string> top_help_lines();

}  // namespace kvmscope::tui
