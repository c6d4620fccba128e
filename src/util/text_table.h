// Fixed-width text columns whose widths adapt to their content. Free text lines (sub-headers,
// blank lines) can sit between rows without affecting the widths, so several groups printed as
// one TextTable line up with each other.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace kvmscope::util {

class TextTable {
 public:
  enum class Align { left, right };

  explicit TextTable(std::vector<Align> aligns) : aligns_(std::move(aligns)) {}

  // Cells beyond the number of columns are ignored; missing cells are empty.
  void add_row(std::vector<std::string> cells);
  void add_text(std::string line);

  // Columns are separated by two spaces; lines never end in spaces.
  void write(std::ostream& out) const;

 private:
  struct Line {
    bool is_text = false;
    std::vector<std::string> cells;  // a single entry for text lines
  };
  std::vector<Align> aligns_;
  std::vector<Line> lines_;
};

}  // namespace kvmscope::util
