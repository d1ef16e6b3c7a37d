// Checks for command-line values that every subcommand shares, with messages that name the accepted
// range in the words a user typed (CLI11's own PositiveNumber prints the range of a double:
// "Value 0 not in range 0.000000 to 1797693134862315708..."). CLI11 puts the flag's name in front:
//   --iters: must be an integer >= 1, got 0
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/text.hpp"

namespace neuralode::cli {

// The whole of `text` as a double. strtod, not std::stod: stod throws out_of_range for a
// subnormal such as 1e-310, which is a finite number.
inline bool parse_real(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// An integer >= min (and <= max when given): counts of steps, iterations, batches, threads.
inline CLI::Validator integer_at_least(std::int64_t min, std::int64_t max = INT64_MAX) {
  const std::string range = max == INT64_MAX ? detail::cat("an integer >= ", min)
                                             : detail::cat("an integer in [", min, ", ", max, "]");
  return CLI::Validator(
      [min, max, range](std::string& value) -> std::string {
        std::size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(value, &used);
        } catch (const std::exception&) {
          return detail::cat("must be ", range, ", got '", value, "'");
        }
        if (used != value.size() || v < min || v > max)
          return detail::cat("must be ", range, ", got ", value);
        return {};
      },
      range);
}

// A finite real number > 0: tolerances, step sizes, learning rates, times.
inline CLI::Validator positive_real() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double v = 0;
        if (!parse_real(value, v))
          return detail::cat("must be a finite number > 0, got '", value, "'");
        if (!std::isfinite(v) || !(v > 0))
          return detail::cat("must be a finite number > 0, got ", value);
        return {};
      },
      "a finite number > 0");
}

// A finite real number (any sign): start and end times, seeds of ranges.
inline CLI::Validator finite_real() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double v = 0;
        if (!parse_real(value, v)) return detail::cat("must be a finite number, got '", value, "'");
        if (!std::isfinite(v)) return detail::cat("must be a finite number, got ", value);
        return {};
      },
      "a finite number");
}

}  // namespace neuralode::cli
