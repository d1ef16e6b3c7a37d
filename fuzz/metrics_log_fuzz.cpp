// Fuzzes MetricsLog's resume path (train/metrics_log.hpp): opened with append and
// drop_after_iteration, it reads the existing metrics.jsonl, keeps the lines up to that iteration
// and rewrites the file, then appends. Input: byte 0 is drop_after_iteration (0..255), the rest the
// existing file. Afterwards every line must be JSON, none may hold an integer "iteration" above the
// limit, and the last line must be the record just written.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.hpp"
#include "neuralode/train/metrics_log.hpp"

namespace fz = neuralode::fuzz;
namespace tr = neuralode::train;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::int64_t last = data[0];
  const auto path = fz::scratch_dir() / "metrics.jsonl";
  fz::write_file(path, fz::as_text(data + 1, size - 1));

  tr::MetricsRecord record;
  record.add("iteration", last + 1).add("loss", 0.25);
  const bool written = fz::expect_clean("MetricsLog", [&] {
    tr::MetricsLog log(path, {.append = true, .drop_after_iteration = last});
    log.write(record);
  });
  if (!written) return 0;

  std::ifstream in(path);
  std::string line, previous;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) fz::finding("MetricsLog kept a line that is not JSON: " + line);
    // Compared exactly: an unsigned value above INT64_MAX is past any limit too.
    const bool past =
        j.is_object() && j.contains("iteration") &&
        ((j["iteration"].is_number_unsigned() &&
          j["iteration"].get<std::uint64_t>() > static_cast<std::uint64_t>(last)) ||
         (j["iteration"].is_number_integer() && j["iteration"].get<std::int64_t>() > last));
    if (past && line != record.to_json())
      fz::finding("MetricsLog kept a line past iteration " + std::to_string(last) + ": " + line);
    previous = line;
  }
  if (previous != record.to_json())
    fz::finding("MetricsLog's last line is not the record written: " + previous);
  return 0;
}
