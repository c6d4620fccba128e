#include "tui/curses_screen.h"

#include <curses.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace kvmscope::tui {

namespace {

constexpr short kPairHeader = 1;
constexpr short kPairSelected = 2;

attr_t attributes(Style style, bool colors) {
  switch (style) {
    case Style::title:
    case Style::status:
      return A_BOLD;
    case Style::header:
      return colors ? COLOR_PAIR(kPairHeader) | A_BOLD : A_REVERSE;
    case Style::selected:
      return colors ? COLOR_PAIR(kPairSelected) | A_BOLD : A_REVERSE | A_BOLD;
    case Style::footer:
      return A_REVERSE;
    case Style::plain:
      break;
  }
  return A_NORMAL;
}

// Styles that mark a whole row (a band across the screen), not only its text.
bool full_width(Style style) {
  return style == Style::header || style == Style::selected || style == Style::footer;
}

}  // namespace

struct CursesScreen::Impl {
  SCREEN* screen = nullptr;
  bool colors = false;
};

CursesScreen::CursesScreen(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

util::Result<std::unique_ptr<CursesScreen>> CursesScreen::open() {
  const char* term = std::getenv("TERM");
  // newterm, unlike initscr, returns an error instead of exiting the process.
  SCREEN* screen = newterm(nullptr, stdout, stdin);
  if (!screen)
    return util::plain_error(
        std::string("cannot drive this terminal (TERM=") + (term ? term : "") + ")",
        "set TERM to a known terminal type, or use --batch for plain text");
  auto impl = std::make_unique<Impl>();
  impl->screen = screen;
  set_escdelay(25);  // Esc goes back at once instead of after curses' default second
  cbreak();          // Ctrl-C still sends SIGINT, which ends kvmscope top cleanly
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  curs_set(0);
  if (has_colors() && start_color() == OK) {
    use_default_colors();
    init_pair(kPairHeader, COLOR_BLACK, COLOR_CYAN);
    init_pair(kPairSelected, COLOR_BLACK, COLOR_YELLOW);
    impl->colors = true;
  }
  return std::unique_ptr<CursesScreen>(new CursesScreen(std::move(impl)));
}

CursesScreen::~CursesScreen() {
  endwin();
  delscreen(impl_->screen);
}

int CursesScreen::width() const {
  return COLS;
}
int CursesScreen::height() const {
  return LINES;
}

void CursesScreen::draw(const std::vector<Line>& lines) {
  erase();
  for (int row = 0; row < LINES && row < static_cast<int>(lines.size()); ++row) {
    const Line& line = lines[static_cast<std::size_t>(row)];
    const attr_t attr = attributes(line.style, impl_->colors);
    mvaddnstr(row, 0, line.text.c_str(), COLS);
    // chgat colours to the end of the row without writing into the last cell (which would
    // scroll the screen on the bottom row).
    if (full_width(line.style))
      mvchgat(row, 0, -1, attr, PAIR_NUMBER(attr), nullptr);
    else if (attr != A_NORMAL)
      mvchgat(row, 0, static_cast<int>(line.text.size()), attr, PAIR_NUMBER(attr), nullptr);
  }
  refresh();
}

std::optional<Key> CursesScreen::read_key(int timeout_ms) {
  timeout(timeout_ms);
  const int ch = getch();
  using Kind = Key::Kind;
  switch (ch) {
    case ERR:
      return std::nullopt;
    case KEY_RESIZE:
      return Key::of(Kind::resize);
    case KEY_UP:
      return Key::of(Kind::up);
    case KEY_DOWN:
      return Key::of(Kind::down);
    case KEY_LEFT:
      return Key::of(Kind::left);
    case KEY_RIGHT:
      return Key::of(Kind::right);
    case KEY_PPAGE:
      return Key::of(Kind::page_up);
    case KEY_NPAGE:
      return Key::of(Kind::page_down);
    case KEY_HOME:
      return Key::of(Kind::home);
    case KEY_END:
      return Key::of(Kind::end);
    case KEY_ENTER:
    case '\n':
    case '\r':
      return Key::of(Kind::enter);
    case KEY_BACKSPACE:
    case 127:
    case 8:
      return Key::of(Kind::backspace);
    case 27:
      return Key::of(Kind::escape);
    default:
      break;
  }
  if (ch > 0 && ch < 256) return Key::of(static_cast<char>(ch));
  return std::nullopt;  // function keys we do not use
}

}  // namespace kvmscope::tui
