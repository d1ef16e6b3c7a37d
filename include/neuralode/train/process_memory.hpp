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

}  // namespace neuralode::train
