// What `kvmscope top`'s keys do: sort, filter, pause, refresh interval, reset, help, quit and
// moving through VM -> vCPU -> reason. Holds the state of the view (not its numbers, which are
// TopModel's) and knows nothing about curses, so every key is testable.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tui/top_filter.h"
#include "tui/top_keys.h"
#include "tui/top_nav.h"
#include "tui/top_view.h"

namespace kvmscope::tui {

enum class Prompt { none, filter, interval };

inline constexpr double kMinInterval = 0.1;
inline constexpr double kMaxInterval = 3600.0;
// How long a status message ("sorted by count") stays when no key comes: counted in refresh
// ticks, as many as make this many seconds at the current interval (one at least).
inline constexpr double kMessageSeconds = 3.0;

class TopController {
 public:
  // Reads a typed interval ("2", "0.5", "500ms"); the command line's parser is passed in.
  using SecondsParser = std::function<std::optional<double>(std::string_view)>;

  TopController(double interval_s, SecondsParser parse_seconds, tui::TopSort sort = {},
                tui::TopFilter filter = {});

  // Acts on one key. `z` resets `model`'s counts.
  void handle(const Key& key, tui::TopModel& model);
  // After the model took a new snapshot: the selection follows its rows.
  void after_update(const tui::TopModel& model);
  // One refresh interval has passed (paused or not): the status message ages, and ends when
  // its ticks are used up.
  void tick();

  tui::TopSort sort() const { return sort_; }
  const tui::TopFilter& filter() const { return filter_; }
  const tui::TopNav& nav() const { return nav_; }
  bool paused() const { return paused_; }
  double interval_s() const { return interval_s_; }
  bool help_shown() const { return help_; }
  Prompt prompt() const { return prompt_; }
  const std::string& prompt_text() const { return prompt_text_; }
  // The line the screen shows above the tables: the prompt being typed, or the last message
  // until the next key or the end of its ticks.
  std::string status_line() const;
  bool quit() const { return quit_; }
  // Rows one PgUp/PgDn moves (the screen sets it to what fits).
  void set_page_rows(std::size_t rows) { page_rows_ = rows ? rows : 1; }

 private:
  void handle_prompt(const Key& key);
  void apply_prompt();
  void step_interval(int direction);
  void say(std::string message);  // shows `message` for kMessageSeconds' worth of ticks

  double interval_s_;
  SecondsParser parse_seconds_;
  tui::TopSort sort_;
  tui::TopFilter filter_;
  tui::TopNav nav_;
  bool paused_ = false;
  bool help_ = false;
  bool quit_ = false;
  Prompt prompt_ = Prompt::none;
  std::string prompt_text_;
  std::string message_;
  unsigned message_ticks_ = 0;  // ticks left before message_ clears
  std::size_t page_rows_ = 10;
};

// "1.0 s", "0.5 s", "30 s": how the interval is shown.
std::string interval_text(double seconds);

}  // namespace kvmscope::tui
