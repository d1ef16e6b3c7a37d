// MetricsLog: JSON lines through nlohmann::json, one flushed line per record.
#include "neuralode/train/metrics_log.hpp"

#include <cerrno>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::train {

using neuralode::detail::cat;
using neuralode::detail::errno_text;
using json = nlohmann::ordered_json;

namespace {

// Whether a line's iteration number lies past `last` (>= 0). JSON integers above INT64_MAX read
// as unsigned; converting them to int64 would wrap them negative and keep a line that is past
// the checkpoint (found by fuzz/metrics_log_fuzz.cpp).
bool is_after(const json& value, std::int64_t last) {
  if (value.is_number_unsigned())
    return value.get<std::uint64_t>() > static_cast<std::uint64_t>(last);
  if (value.is_number_integer()) return value.get<std::int64_t>() > last;
  if (value.is_number_float()) return value.get<double>() > static_cast<double>(last);
  return false;
}

// Lines of an existing log, without those whose `key` (an iteration count) exceeds last, and
// without a torn last line (one not ending in a newline, which a crash mid-write leaves), written
// back atomically. Any other line that is not a JSON object means the file is not a log this
// class wrote (or was damaged): IoError naming the file and the line, and the file is left as
// it was, since rewriting it would silently delete what cannot be read.
void drop_lines_after(const std::filesystem::path& path, const std::string& key,
                      std::int64_t last) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return;  // nothing to drop
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  std::string kept;
  std::size_t begin = 0;
  for (std::int64_t number = 1; begin < text.size(); ++number) {
    const std::size_t newline = text.find('\n', begin);
    if (newline == std::string::npos) break;  // torn last line: dropped
    const std::string_view line(text.data() + begin, newline - begin);
    begin = newline + 1;
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      throw IoError(cat("MetricsLog '", path.string(), "': line ", number,
                        " is not a JSON object (", line.size() > 60 ? "starts " : "", "'",
                        line.substr(0, 60),
                        "'); not a metrics log, or a damaged one; repair or "
                        "remove it, or choose another --out"));
    if (last >= 0 && j.contains(key) && is_after(j[key], last)) continue;
    kept += line;
    kept += '\n';
  }
  if (kept.size() == text.size()) return;  // nothing dropped: no rewrite
  neuralode::detail::write_file_atomically(
      path, kept,
      last >= 0 ? cat("MetricsLog: dropping the lines after ", key, " ", last, " from")
                : std::string("MetricsLog: dropping a torn last line from"));
}

// Whether the file exists, is not empty and does not end with a newline.
bool ends_torn(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() <= 0) return false;
  in.seekg(-1, std::ios::end);
  char c = 0;
  in.get(c);
  return c != '\n';
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
  // Appending after a torn last line would glue the next record onto it; drop_lines_after
  // removes that line (and checks the rest) first.
  if (options.append && (options.drop_after_iteration >= 0 || ends_torn(path_)))
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
