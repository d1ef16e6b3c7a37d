// Predicted memory, refused before it is allocated (train/memory_budget.hpp): the image data reader, `train odenet`,
// `bench odenet` and `bench memory` turn their sizes into bytes and compare them with what the
// machine has available (train::available_memory_bytes()), so a too-large --batch-size or --dim
// gets a message with both numbers instead of std::bad_alloc (or the kernel's OOM killer) later.
#pragma once

#include <cstdio>
#include <string>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/train/process_memory.hpp"

namespace neuralode::detail {

// "1.5 GiB (1610612736 bytes)"; bytes as a double because predictions can exceed 2^64.
inline std::string bytes_text(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = bytes;
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, ++u;
  char buf[96];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f bytes", bytes);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s (%.4g bytes)", v, units[u], bytes);
  return buf;
}

// Throws InvalidArgument "<where>: <what> needs at least <bytes>, more than the <available> this
// machine has available; <fix>" when `bytes` exceeds available_memory_bytes(). Does nothing where
// the available memory cannot be read (0).
inline void require_memory(const std::string& where, const std::string& what, double bytes,
                           const std::string& fix) {
  const double available = static_cast<double>(train::available_memory_bytes());
  if (available == 0 || bytes <= available) return;
  throw InvalidArgument(cat(where, ": ", what, " needs at least ", bytes_text(bytes),
                            ", more than the ", bytes_text(available),
                            " this machine has available; ", fix));
}

}  // namespace neuralode::detail
