// CSV text as RFC 4180 describes it, except that rows end in "\n" (what spreadsheets and
// pandas read everywhere): fields separated by commas, a field quoted when it holds a comma, a
// quote, a line break or leading/trailing spaces, quotes inside doubled.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kvmscope::report {

std::string csv_field(std::string_view text);
void write_csv_row(const std::vector<std::string>& fields, std::ostream& out);

}  // namespace kvmscope::report
