// Resident memory from /proc/self/status; see process_memory.hpp.
#include "neuralode/train/process_memory.hpp"

#include <fstream>
#include <string>

namespace neuralode::train {
namespace {

// The value of a "Key:   1234 kB" line of a /proc file, in bytes.
std::size_t kib_line_bytes(const char* file, const char* key) {
  std::ifstream in(file);
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return std::stoull(line.substr(prefix.size())) * 1024;
  return 0;
}

}  // namespace

std::size_t current_rss_bytes() {
  return kib_line_bytes("/proc/self/status", "VmRSS");
}
std::size_t peak_rss_bytes() {
  return kib_line_bytes("/proc/self/status", "VmHWM");
}
std::size_t available_memory_bytes() {
  return kib_line_bytes("/proc/meminfo", "MemAvailable");
}
std::size_t total_memory_bytes() {
  return kib_line_bytes("/proc/meminfo", "MemTotal");
}

}  // namespace neuralode::train
