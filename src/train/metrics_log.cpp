// MetricsLog: JSON lines through nlohmann::json, one flushed line per record.
#include "neuralode/train/metrics_log.hpp"

#include <cerrno>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::train {

using neuralode::detail::cat;
using neuralode::detail::errno_text;
using json = nlohmann::ordered_json;

namespace {

// Lines of an existing log, without those whose `key` (an iteration count) exceeds last (and
// without a torn last line that is not valid JSON, which a crash mid-write could leave), written
// back atomically.
void drop_lines_after(const std::filesystem::path& path, const std::string& key,
                      std::int64_t last) {
  std::ifstream in(path);
  if (!in) return;  // nothing to drop
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;
    if (j.is_object() && j.contains(key) && j[key].is_number_integer() &&
        j[key].get<std::int64_t>() > last)
      continue;
    kept += line;
    kept += '\n';
  }
  in.close();
  neuralode::detail::write_file_atomically(
      path, kept, cat("MetricsLog: dropping the lines after ", key, " ", last, " from"));
}

}  // namespace

std::string MetricsRecord::to_json() const {
  json j = json::object();
  for (const auto& [key, value] : fields_) {
    std::visit(
        [&, &key = key](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, Json>) {
            try {
              j[key] = json::parse(v.text);
            } catch (const json::exception& e) {
              throw InvalidArgument(cat("MetricsRecord: field '", key, "' is not valid JSON (",
                                        e.what(), "): ", v.text));
            }
          } else if constexpr (std::is_same_v<V, double>) {
            if (std::isfinite(v))
              j[key] = v;
            else
              j[key] = nullptr;
          } else {
            j[key] = v;
          }
        },
        value);
  }
  return j.dump();
}

MetricsLog::MetricsLog(std::filesystem::path path, const MetricsLogOptions& options)
    : path_(std::move(path)) {
  if (options.append && options.drop_after_iteration >= 0)
    drop_lines_after(path_, options.iteration_key, options.drop_after_iteration);
  out_.open(path_, options.append ? std::ios::app : std::ios::trunc | std::ios::out);
  if (!out_) {
    const int e = errno;
    throw IoError(cat("MetricsLog: cannot open '", path_.string(), "' for ",
                      options.append ? "appending" : "writing", ": ", errno_text(e)));
  }
}

void MetricsLog::write(const MetricsRecord& record) {
  const std::string line = record.to_json();
  out_ << line << '\n';
  out_.flush();
  if (!out_) {
    const int e = errno;
    throw IoError(cat("MetricsLog '", path_.string(), "': writing line ", num_lines_written_ + 1,
                      " failed: ", errno_text(e)));
  }
  ++num_lines_written_;
}

}  // namespace neuralode::train
