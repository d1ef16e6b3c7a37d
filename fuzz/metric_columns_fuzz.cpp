// Fuzzes detail::read_metric_columns (src/train/metric_columns.hpp), which reads a metrics.jsonl
// back into columns for the figures and `table odenet`. Input: the file's bytes. It never throws
// by contract (bad lines are skipped), and every column it returns has one entry per row.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "train/metric_columns.hpp"

namespace fz = neuralode::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fz::scratch_dir() / "metrics.jsonl";
  fz::write_file(path, fz::as_text(data, size));
  fz::must_succeed("read_metric_columns", [&] {
    auto columns =
        neuralode::detail::read_metric_columns(path, "epoch", {"epoch", "seconds", "test_error"});
    if (columns.size() != 3) fz::finding("read_metric_columns: not one column per key");
    const std::size_t rows = columns["epoch"].size();
    for (const auto& [key, values] : columns)
      if (values.size() != rows)
        fz::finding("read_metric_columns: column '" + key + "' has " +
                    std::to_string(values.size()) + " rows, 'epoch' has " + std::to_string(rows));
  });
  return 0;
}
