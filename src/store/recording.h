// The recording file format of `kvmscope record` / `kvmscope report` (docs/file-format.md):
// include this for the whole API.
#pragma once

#include "store/reader.h"          // IWYU pragma: export
#include "store/recording_info.h"  // IWYU pragma: export
#include "store/writer.h"          // IWYU pragma: export
