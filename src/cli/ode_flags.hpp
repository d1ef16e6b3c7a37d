// Checks for the solver flags of `solve` and `bench solvers` that flags.hpp does not have: a real
// number >= 0 where 0 means "automatic", and a word from a fixed list (a registry's names, an
// output format). Like flags.hpp's, the messages name the accepted set in the words a user types,
// and CLI11 puts the flag in front:
//   --format: must be one of csv, json; got 'xml'
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "cli/flags.hpp"
#include "common/text.hpp"

namespace neuralode::cli {

// A finite real number >= 0; `zero_means` says what 0 selects ("automatic").
inline CLI::Validator non_negative_real(const std::string& zero_means) {
  const std::string range = detail::cat("a finite number >= 0 (0 = ", zero_means, ")");
  return CLI::Validator(
      [range](std::string& value) -> std::string {
        double v = 0;
        if (!parse_real(value, v)) return detail::cat("must be ", range, ", got '", value, "'");
        if (!std::isfinite(v) || !(v >= 0)) return detail::cat("must be ", range, ", got ", value);
        return {};
      },
      range);
}

// ", "-joined words, for help texts and messages.
inline std::string join_words(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : ", ") + w;
  return text;
}

// One of `words` exactly (case matters: the words are the library's own spellings).
inline CLI::Validator one_of(std::vector<std::string> words) {
  const std::string accepted = join_words(words);
  return CLI::Validator(
      [words = std::move(words), accepted](std::string& value) -> std::string {
        for (const std::string& w : words)
          if (w == value) return {};
        return detail::cat("must be one of ", accepted, "; got '", value, "'");
      },
      "one of " + accepted);
}

}  // namespace neuralode::cli
