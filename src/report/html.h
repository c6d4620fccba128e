// Pieces of HTML text for the report page: escaping, JSON that is safe inside a <script>
// element, and a table writer.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kvmscope::report {

// & < > " ' as entities: safe in element text and in quoted attribute values.
std::string html_escape(std::string_view text);

// A JSON document made safe to sit inside <script type="application/json">: every '<' becomes
// \u003c. In JSON a '<' can only occur inside a string, where \u003c means the same, so the
// data parses back unchanged, and no "</script>" or "<!--" can end or alter the element.
std::string script_safe_json(std::string_view json);

// A <table> with a header row; cells are plain text (escaped when written).
class HtmlTable {
 public:
  struct Column {
    std::string header;
    bool left = false;  // text columns left-aligned, numbers right-aligned
  };
  explicit HtmlTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add_row(std::vector<std::string> cells, bool total = false);
  bool empty() const { return rows_.empty(); }
  void write(std::ostream& out) const;

 private:
  struct Row {
    std::vector<std::string> cells;
    bool total = false;
  };
  std::vector<Column> columns_;
  std::vector<Row> rows_;
};

}  // namespace kvmscope::report
