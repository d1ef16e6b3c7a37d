// Small text helpers for error messages and reports (GCC 12 has no std::format).
#pragma once

#include <cstdio>
#include <sstream>
#include <string>
#include <system_error>

namespace neuralode::detail {

// A number the way people read it in a message: up to 6 significant digits ("0.31", "2e-17").
inline std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

// The system's message for an errno value ("No such file or directory"); unlike std::strerror,
// safe to call from several threads.
inline std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Concatenates anything streamable: cat("times[", i, "] = ", num(t)).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace neuralode::detail
