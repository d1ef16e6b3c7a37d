// Reading a metrics.jsonl back as columns of numbers, for the figures a training command draws at
// its end (from the file, so a resumed run's figure shows the whole run).
#pragma once

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

// In the project-wide detail namespace: a train::detail would hide neuralode::detail (cat, num).
namespace neuralode::detail {

// For every line that is a JSON object holding `row_key`, the numeric value of each of `keys`
// (NaN where absent or not a number). Other lines (a torn last line) are skipped.
inline std::map<std::string, std::vector<double>> read_metric_columns(
    const std::filesystem::path& path, const std::string& row_key,
    std::initializer_list<const char*> keys) {
  std::map<std::string, std::vector<double>> columns;
  for (const char* k : keys) columns[k];
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains(row_key)) continue;
    for (const char* k : keys) {
      const auto it = j.find(k);
      columns[k].push_back(it != j.end() && it->is_number()
                               ? it->get<double>()
                               : std::numeric_limits<double>::quiet_NaN());
    }
  }
  return columns;
}

}  // namespace neuralode::detail
