#include "report/html.h"

namespace kvmscope::report {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string script_safe_json(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

void HtmlTable::add_row(std::vector<std::string> cells, bool total) {
  cells.resize(columns_.size());
  rows_.push_back({std::move(cells), total});
}

void HtmlTable::write(std::ostream& out) const {
  out << "<table>\n<tr>";
  for (const Column& c : columns_)
    out << (c.left ? "<th class=\"l\">" : "<th>") << html_escape(c.header) << "</th>";
  out << "</tr>\n";
  for (const Row& row : rows_) {
    out << (row.total ? "<tr class=\"total\">" : "<tr>");
    for (std::size_t i = 0; i < columns_.size(); ++i)
      out << (columns_[i].left ? "<td class=\"l\">" : "<td>") << html_escape(row.cells[i])
          << "</td>";
    out << "</tr>\n";
  }
  out << "</table>\n";
}

}  // namespace kvmscope::report
