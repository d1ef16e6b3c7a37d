// Resident memory from /proc/self/status; see process_memory.hpp.
#include "neuralode/train/process_memory.hpp"

#include <fstream>
#include <string>

namespace neuralode::train {
namespace {

// The value of a "Key:   1234 kB" line, in bytes.
std::size_t status_bytes(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return std::stoull(line.substr(prefix.size())) * 1024;
  return 0;
}

}  // namespace

std::size_t current_rss_bytes() {
  return status_bytes("VmRSS");
}
std::size_t peak_rss_bytes() {
  return status_bytes("VmHWM");
}

}  // namespace neuralode::train
