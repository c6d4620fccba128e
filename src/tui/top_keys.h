// A key press as `kvmscope top` understands it, independent of curses: the curses screen
// translates its key codes into these, so the controller that acts on them stays testable.
#pragma once

namespace kvmscope::tui {

struct Key {
  enum class Kind {
    character,  // `ch` holds it
    enter,
    backspace,
    escape,
    up,
    down,
    left,
    right,
    page_up,
    page_down,
    home,
    end,
    resize,  // the terminal changed size: nothing to do but draw again
  };
  Kind kind = Kind::character;
  char ch = 0;

  static Key of(char c) { return {Kind::character, c}; }
  static Key of(Kind k) { return {k, 0}; }
};

}  // namespace kvmscope::tui
