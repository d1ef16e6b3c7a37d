// `--repeats N` for the training benchmarks: the same benchmark run N times, reported as the
// median with the extremes. On a shared or virtual machine one run can be much slower than the
// next (on this project's VM, the same binary took 0.16 to 0.63 ms per spiral step minutes apart),
// so a single figure says little; the minimum is the machine undisturbed, the median the typical.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/flags.hpp"

namespace neuralode::cli {

inline void add_repeats_flag(CLI::App& cmd, int& repeats) {
  cmd.add_option("--repeats", repeats,
                 "Run the benchmark this many times; report the median, minimum and maximum")
      ->check(integer_at_least(1, 1000))
      ->capture_default_str();
}

// j[key] = the median of runs (the upper one for an even count), j[key + "_min"], j[key + "_max"],
// j[key + "_runs"] (in run order) and j["repeats"].
inline void put_repeated(nlohmann::json& j, const std::string& key,
                         const std::vector<double>& runs) {
  std::vector<double> sorted = runs;
  std::sort(sorted.begin(), sorted.end());
  j[key] = sorted[sorted.size() / 2];
  j[key + "_min"] = sorted.front();
  j[key + "_max"] = sorted.back();
  j[key + "_runs"] = runs;
  j["repeats"] = runs.size();
}

}  // namespace neuralode::cli
