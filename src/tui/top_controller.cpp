#include "tui/top_controller.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace kvmscope::tui {

namespace {

// What + and - step through.
constexpr std::array<double, 11> kIntervalSteps = {0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 15, 30, 60};

bool printable_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u != 0x7f;
}

}  // namespace

std::string interval_text(double seconds) {
  char buffer[32];
  if (seconds >= 10) {
    std::snprintf(buffer, sizeof buffer, "%.0f s", seconds);
    return buffer;
  }
  // Two decimals at most, one at least: "1.0 s", "2.5 s", "0.25 s".
  std::snprintf(buffer, sizeof buffer, "%.2f", seconds);
  std::string text = buffer;
  if (text.back() == '0') text.pop_back();
  return text + " s";
}

TopController::TopController(double interval_s, SecondsParser parse_seconds, tui::TopSort sort,
                             tui::TopFilter filter)
    : interval_s_(interval_s),
      parse_seconds_(std::move(parse_seconds)),
      sort_(sort),
      filter_(std::move(filter)) {}

std::string TopController::status_line() const {
  switch (prompt_) {
    case Prompt::filter:
      return "filter VMs by name, process or PID (regex, empty: all): " + prompt_text_;
    case Prompt::interval:
      return "refresh every (seconds, now " + interval_text(interval_s_) + "): " + prompt_text_;
    case Prompt::none:
      break;
  }
  return message_;
}

void TopController::after_update(const tui::TopModel& model) {
  if (auto gone = nav_.sync(model, sort_, filter_)) say(*gone);
}

void TopController::tick() {
  if (message_ticks_ > 0 && --message_ticks_ == 0) message_.clear();
}

void TopController::say(std::string message) {
  message_ = std::move(message);
  // About kMessageSeconds whatever the interval, and at least until the next refresh.
  message_ticks_ =
      static_cast<unsigned>(std::max(1.0, std::ceil(kMessageSeconds / interval_s_ - 1e-9)));
}

void TopController::handle(const Key& key, tui::TopModel& model) {
  using Kind = Key::Kind;
  if (key.kind == Kind::resize) return;
  if (prompt_ != Prompt::none) {
    handle_prompt(key);
    after_update(model);
    return;
  }
  message_.clear();  // a key press ends the last message
  if (help_) {       // any key closes the help
    help_ = false;
    return;
  }
  switch (key.kind) {
    case Kind::enter:
    case Kind::right:
      nav_.enter();
      break;
    case Kind::escape:
    case Kind::backspace:
    case Kind::left:
      nav_.back();
      break;
    case Kind::up:
      nav_.move(-1);
      break;
    case Kind::down:
      nav_.move(1);
      break;
    case Kind::page_up:
      nav_.move(-static_cast<long>(page_rows_));
      break;
    case Kind::page_down:
      nav_.move(static_cast<long>(page_rows_));
      break;
    case Kind::home:
      nav_.home();
      break;
    case Kind::end:
      nav_.end();
      break;
    case Kind::resize:
      break;
    case Kind::character:
      switch (key.ch) {
        case 'q':
        case 'Q':
          quit_ = true;
          break;
        case '?':
        case 'h':
          help_ = true;
          break;
        case 'r':
          sort_ = tui::TopSort::rate;
          say("sorted by rate");
          break;
        case 'c':
          sort_ = tui::TopSort::count;
          say("sorted by count");
          break;
        case 't':
          sort_ = tui::TopSort::time;
          say("sorted by handling time");
          break;
        case 'p':
        case ' ':
          paused_ = !paused_;
          say(paused_ ? "paused: the numbers stay as they are (p or space resumes)" : "resumed");
          break;
        case '/':
          prompt_ = Prompt::filter;
          prompt_text_ = filter_.pattern();
          break;
        case 'd':
          prompt_ = Prompt::interval;
          prompt_text_.clear();
          break;
        case '+':
        case '=':
          step_interval(+1);
          break;
        case '-':
        case '_':
          step_interval(-1);
          break;
        case 'z':
          model.reset_counts();
          say("counts reset: they start again from now");
          break;
        case 'j':
          nav_.move(1);
          break;
        case 'k':
          nav_.move(-1);
          break;
        default:
          say(std::string("unknown key '") + (printable_char(key.ch) ? key.ch : '?') +
              "' (? shows the keys)");
          break;
      }
      break;
  }
  after_update(model);
}

void TopController::handle_prompt(const Key& key) {
  switch (key.kind) {
    case Key::Kind::escape:
      prompt_ = Prompt::none;
      prompt_text_.clear();
      return;
    case Key::Kind::enter:
      apply_prompt();
      return;
    case Key::Kind::backspace:
      if (!prompt_text_.empty()) prompt_text_.pop_back();
      return;
    case Key::Kind::character:
      if (printable_char(key.ch) && prompt_text_.size() < 200) prompt_text_ += key.ch;
      return;
    default:
      return;
  }
}

void TopController::apply_prompt() {
  const Prompt prompt = prompt_;
  const std::string text = prompt_text_;
  prompt_ = Prompt::none;
  prompt_text_.clear();
  if (prompt == Prompt::filter) {
    auto filter = tui::TopFilter::compile(text);
    if (!filter) {
      say(filter.error().message());
      return;
    }
    filter_ = std::move(*filter);
    say(filter_.empty() ? "filter cleared: all VMs" : "showing VMs matching /" + text + "/");
    return;
  }
  if (text.empty()) return;  // nothing typed: the interval stays
  const auto seconds = parse_seconds_(text);
  if (!seconds || *seconds < kMinInterval || *seconds > kMaxInterval) {
    say("'" + text + "' is not an interval between 0.1 s and 1 h");
    return;
  }
  interval_s_ = *seconds;
  say("refreshing every " + interval_text(interval_s_));
}

void TopController::step_interval(int direction) {
  double next = interval_s_;
  if (direction > 0) {
    for (double step : kIntervalSteps)
      if (step > interval_s_ + 1e-9) {
        next = step;
        break;
      }
  } else {
    for (double step : kIntervalSteps)
      if (step < interval_s_ - 1e-9) next = step;
  }
  interval_s_ = next;
  say("refreshing every " + interval_text(interval_s_));
}

}  // namespace kvmscope::tui
