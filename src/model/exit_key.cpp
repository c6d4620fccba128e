#include "model/exit_key.h"

namespace kvmscope::model {

const char* level_name(Level level) {
  switch (level) {
    case Level::hardware:
      return "hardware";
    case Level::vmm:
      return "vmm";
  }
  return "?";
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::none:
      return "none";
    case Isa::vmx:
      return "vmx";
    case Isa::svm:
      return "svm";
    case Isa::arm64:
      return "arm64";
  }
  return "?";
}

}  // namespace kvmscope::model
