// kvmscope top's screen: refreshes on a timer, acts on keys in between, draws after each.
#include <algorithm>

#include "cli/numbers.h"
#include "cli/signals.h"
#include "cli/top_run.h"
#include "tui/curses_screen.h"
#include "tui/top_controller.h"
#include "tui/top_frame.h"
#include "util/clock.h"

namespace kvmscope::cli {

namespace {

constexpr int kHeadLines = 8;  // title, summary, notes, status, headers: not paged by PgUp/PgDn

std::uint64_t to_ns(double seconds) {
  return static_cast<std::uint64_t>(seconds * 1e9);
}

}  // namespace

util::Result<void> run_top_screen(TopSession& s) {
  auto filter = tui::TopFilter::compile(s.options.filter);
  if (!filter) return filter.error();
  tui::TopController state(s.options.interval_s, parse_seconds, s.options.sort, std::move(*filter));
  state.after_update(s.model);

  auto opened = tui::CursesScreen::open();
  if (!opened) return opened.error();
  tui::CursesScreen& screen = **opened;
  const std::string target = s.options.target.describe();
  auto draw = [&] {
    state.set_page_rows(static_cast<std::size_t>(std::max(1, screen.height() - kHeadLines)));
    screen.draw(tui::top_screen(s.model, state, s.catalog,
                                {s.clock(), target, s.options.counts_only}, screen.width(),
                                screen.height()));
  };

  std::uint64_t last_tick = util::monotonic_ns();
  std::uint64_t refreshes = 0;
  draw();
  while (!stop_requested() && !state.quit() && !s.duration_over()) {
    const std::uint64_t now = util::monotonic_ns();
    const std::uint64_t next_tick = last_tick + to_ns(state.interval_s());
    if (now >= next_tick) {
      last_tick = now;
      state.tick();  // before the refresh: a message the refresh brings gets all its ticks
      if (!state.paused()) {
        if (auto r = s.refresh(); !r) return r;
        state.after_update(s.model);
        ++refreshes;
      }
      draw();
      if (s.options.iterations && refreshes >= *s.options.iterations) break;
      continue;
    }
    // Wake at the next tick at the latest; a quarter second at most, to notice stop signals.
    const auto wait_ms =
        static_cast<int>(std::min<std::uint64_t>((next_tick - now) / 1000000 + 1, 250));
    if (auto key = screen.read_key(wait_ms)) {
      state.handle(*key, s.model);
      draw();
    }
  }
  return {};
}

}  // namespace kvmscope::cli
