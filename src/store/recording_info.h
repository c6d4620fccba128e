// store's names for what a recording says about itself (model/recording_info.h), so the code of
// store and its users reads as before: store::RecordingInfo, store::Totals, ...
#pragma once

#include "model/recording_info.h"  // IWYU pragma: export

namespace kvmscope::store {

using RecordingInfo = model::RecordingInfo;
using VmMeta = model::VmMeta;
using Marker = model::Marker;
using Totals = model::RecordingTotals;

}  // namespace kvmscope::store
