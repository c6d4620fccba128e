// The only place that talks to curses: draws a frame's lines with their styles and reads keys.
// Everything it draws was decided by top_frame (pure); this only maps styles to attributes and
// curses key codes to tui::Key.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "tui/top_frame.h"
#include "tui/top_keys.h"
#include "util/result.h"

namespace kvmscope::tui {

class CursesScreen {
 public:
  // Takes over the terminal on standard input/output. Fails (with the reason) where the
  // terminal type is unknown; the caller checks beforehand that both are terminals.
  static util::Result<std::unique_ptr<CursesScreen>> open();
  // Gives the terminal back as it was, whatever happened.
  ~CursesScreen();
  CursesScreen(const CursesScreen&) = delete;
  CursesScreen& operator=(const CursesScreen&) = delete;

  int width() const;
  int height() const;
  void draw(const std::vector<Line>& lines);
  // Waits up to timeout_ms for a key; nothing when none came (or a signal interrupted).
  std::optional<Key> read_key(int timeout_ms);

 private:
  struct Impl;
  explicit CursesScreen(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvmscope::tui
