#include "cli/output_options.h"

#include <utility>

#include "util/output_path.h"

namespace kvmscope::cli {

util::Result<bool> parse_output_option(OptionCursor& cursor, OutputOptions& o) {
  const std::string_view name = cursor.name();
  if (name == "--json") {
    o.json = true;
    return true;
  }
  if (name != "--csv" && name != "--html" && name != "-o" && name != "--output") return false;
  auto v = cursor.path_value();
  if (!v) return v.error();
  (name == "--csv" ? o.csv : name == "--html" ? o.html : o.output) = *v;
  if (name == "-o" || name == "--output") o.output_option = std::string(name);
  return true;
}

util::Result<void> check_output_paths(const OutputOptions& o) {
  const std::pair<const char*, const std::string*> outputs[] = {
      {o.output_option.c_str(), &o.output}, {"--csv", &o.csv}, {"--html", &o.html}};
  for (const auto& [option, path] : outputs)
    if (!path->empty())
      if (auto ok = util::check_parent_directory(option, *path); !ok) return ok;
  return {};
}

}  // namespace kvmscope::cli
