// The report's "Guest code" part (--guest-symbols, --guest-kernel, --by function): per VM the
// KASLR offset used and how many exit RIPs fit the guest kernel's instructions at it, the
// kernel / firmware-and-early-boot / user split, and per reason the guest functions that
// exited, each with its busiest instruction. Text, JSON (the "guest_code" field) and CSV.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "model/reason_catalog.h"
#include "model/snapshot.h"
#include "symbols/attribution.h"

namespace kvmscope::report {

// "KASLR offset 0xf600000 (found in the guest kernel's code); 103 of 103 checkable exit RIPs fit
// the instructions of vmlinuz" or what stands for it: how one VM's RIPs were named.
std::string guest_offset_text(const symbols::Attribution& a, const symbols::VmAttribution& vm);

// The text block; `max_rows` functions per reason.
std::string guest_code_text(const symbols::Attribution& a, const model::Snapshot& names,
                            const model::ReasonCatalog& catalog, std::size_t max_rows);
// The JSON value (an object, no field name) of the report's "guest_code".
void write_guest_code_json(const symbols::Attribution& a, const model::ReasonCatalog& catalog,
                           std::ostream& out);
// guest_functions.csv and guest_sites.csv: one row per (VM, reason, function) and per (VM,
// reason, RIP).
void write_guest_functions_csv(const symbols::Attribution& a, const model::ReasonCatalog& catalog,
                               std::ostream& out);
void write_guest_sites_csv(const symbols::Attribution& a, const model::ReasonCatalog& catalog,
                           std::ostream& out);

// Why user-space exits are one row per VM, said once in every output.
extern const char* const kNoCr3Note;

}  // namespace kvmscope::report
