// `neuralode table odenet`: the paper-style comparison of finished image-classifier runs as a
// Markdown table; see odenet.hpp.
#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/text.hpp"
#include "neuralode/apps/odenet.hpp"
#include "neuralode/error.hpp"
#include "train/metric_columns.hpp"

namespace neuralode::apps {

using detail::cat;
using detail::num;
namespace fs = std::filesystem;

namespace {

// "a number", "an array": nlohmann's type name with its article.
std::string a_type(const nlohmann::json& v) {
  const std::string name = v.type_name();
  return (name == "array" || name == "object" ? "an " : "a ") + name;
}

// A config.json value of the expected JSON type, `fallback` when absent; IoError naming the file,
// the key, the expected and the found type otherwise (nlohmann's own type_error names none).
std::string config_string(const nlohmann::json& c, const fs::path& file, const char* key) {
  const auto it = c.find(key);
  if (it == c.end()) return "?";
  if (!it->is_string())
    throw IoError(cat("table odenet: ", file.string(), ": '", key, "' is ", a_type(*it), " (",
                      it->dump(), "); accepted: a string"));
  return it->get<std::string>();
}

std::int64_t config_integer(const nlohmann::json& c, const fs::path& file, const char* key) {
  const auto it = c.find(key);
  if (it == c.end()) return 0;
  if (!it->is_number_integer())
    throw IoError(cat("table odenet: ", file.string(), ": '", key, "' is ", a_type(*it), " (",
                      it->dump(), "); accepted: an integer"));
  return it->get<std::int64_t>();
}

// The name a run directory is shown by: its last component, also when the path ends in '/'.
std::string run_name(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().empty() ? dir.string() : p.filename().string();
}

}  // namespace

std::string odenet_table(const std::vector<std::filesystem::path>& run_dirs) {
  if (run_dirs.empty()) throw InvalidArgument("table odenet: give at least one run directory");
  std::ostringstream t;
  t << "| run | model | gradient | epochs | test error | parameters | peak memory | time per "
       "epoch | NFE forward | NFE backward |\n"
    << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& dir : run_dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw IoError(cat("table odenet: ", dir.string(),
                        fs::exists(dir, ec) ? " is not a directory" : " does not exist",
                        "; accepted: a run directory written by `train odenet` (with config.json "
                        "and metrics.jsonl)"));
    const fs::path config_path = dir / "config.json", metrics_path = dir / "metrics.jsonl";
    std::ifstream cin(config_path);
    if (!cin) throw IoError(cat("table odenet: ", dir.string(), " has no config.json"));
    const auto config = nlohmann::json::parse(cin, nullptr, false);
    if (config.is_discarded())
      throw IoError(cat("table odenet: ", config_path.string(), " is not valid JSON"));
    if (!config.is_object())
      throw IoError(cat("table odenet: ", config_path.string(), " holds ", a_type(config),
                        "; accepted: a JSON object (as `train odenet` writes)"));
    const std::string model = config_string(config, config_path, "model");
    const std::string grad = config_string(config, config_path, "grad");
    const std::int64_t num_params = config_integer(config, config_path, "num_params");
    auto c = detail::read_metric_columns(
        metrics_path, "epoch",
        {"epoch", "seconds", "peak_rss_bytes", "test_error", "nfe_forward", "nfe_backward"});
    const std::size_t lines = c["epoch"].size();
    if (lines == 0)
      throw IoError(cat("table odenet: ", dir.string(), " has no finished epoch in metrics.jsonl"));
    double seconds = 0, peak = 0;  // absent values (NaN) count as 0
    for (std::size_t i = 0; i < lines; ++i) {
      if (std::isfinite(c["seconds"][i])) seconds += c["seconds"][i];
      if (std::isfinite(c["peak_rss_bytes"][i])) peak = std::max(peak, c["peak_rss_bytes"][i]);
    }
    // The last line's numbers are the result: a missing or non-numeric one is refused rather
    // than printed as "nan".
    const auto last = [&](const char* key) {
      const double v = c[key][lines - 1];
      if (!std::isfinite(v))
        throw IoError(cat("table odenet: ", metrics_path.string(),
                          ": the last epoch's line has no numeric '", key,
                          "'; accepted: lines as `train odenet` writes them"));
      return v;
    };
    const double epoch = last("epoch");
    if (epoch < 0 || epoch > INT_MAX || epoch != std::floor(epoch))
      throw IoError(cat("table odenet: ", metrics_path.string(),
                        ": the last line's 'epoch' = ", num(epoch), "; accepted: an integer >= 0"));
    std::ostringstream row;
    row << std::fixed << "| " << run_name(dir) << " | " << model << " | " << grad << " | "
        << static_cast<int>(epoch) << " | " << std::setprecision(2) << 100.0 * last("test_error")
        << " % | " << num_params << " | " << std::setprecision(0) << peak / (1 << 20) << " MiB | "
        << std::setprecision(1) << seconds / static_cast<double>(lines) << " s | "
        << last("nfe_forward") << " | " << last("nfe_backward") << " |\n";
    t << row.str();
  }
  return t.str();
}

}  // namespace neuralode::apps
