// Resident memory of this process, as the kernel reports it (Linux /proc/self/status): what the
// benchmarks and training logs call "peak memory", comparable to PyTorch scripts' ru_maxrss.
#pragma once

#include <cstddef>

namespace neuralode::train {

// VmRSS: resident bytes now. 0 where /proc is not available.
std::size_t current_rss_bytes();
// VmHWM: the largest resident size this process has had ("high water mark"). 0 where /proc is not
// available.
std::size_t peak_rss_bytes();

// MemAvailable and MemTotal of /proc/meminfo: what the machine can still give this process without
// swapping, and its size. 0 where /proc is not available. Commands compare predicted buffer sizes
// with the first before they allocate (a prediction above it is refused with both numbers).
std::size_t available_memory_bytes();
std::size_t total_memory_bytes();

}  // namespace neuralode::train
