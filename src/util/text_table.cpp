#include "util/text_table.h"

#include <algorithm>

namespace kvmscope::util {

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(aligns_.size());
  lines_.push_back({false, std::move(cells)});
}

void TextTable::add_text(std::string line) {
  lines_.push_back({true, {std::move(line)}});
}

void TextTable::write(std::ostream& out) const {
  std::vector<std::size_t> widths(aligns_.size(), 0);
  for (const Line& line : lines_) {
    if (line.is_text) continue;
    for (std::size_t i = 0; i < widths.size(); ++i)
      widths[i] = std::max(widths[i], line.cells[i].size());
  }
  for (const Line& line : lines_) {
    std::string text;
    if (line.is_text) {
      text = line.cells.front();
    } else {
      for (std::size_t i = 0; i < widths.size(); ++i) {
        if (i > 0) text += "  ";
        const std::string& cell = line.cells[i];
        const std::string pad(widths[i] - cell.size(), ' ');
        text += aligns_[i] == Align::right ? pad + cell : cell + pad;
      }
    }
    // Left-aligned last cells and empty cells leave padding at the end; never print it.
    text.erase(text.find_last_not_of(' ') + 1);
    out << text << '\n';
  }
}

}  // namespace kvmscope::util
