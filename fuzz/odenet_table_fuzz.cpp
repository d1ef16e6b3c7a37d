// Fuzzes odenet_table (apps/odenet.hpp), `neuralode table odenet`: it reads a run directory's
// config.json and metrics.jsonl. Input: config.json's bytes, a NUL byte, then metrics.jsonl's
// bytes (without a NUL there is no metrics.jsonl). A table made without an exception has its
// header and a row.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_support.hpp"
#include "neuralode/apps/odenet.hpp"

namespace fz = neuralode::fuzz;
namespace tr = neuralode::apps;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto run = fz::scratch_dir() / "run";
  std::filesystem::create_directories(run);
  const std::uint8_t* nul = std::find(data, data + size, std::uint8_t{0});
  fz::write_file(run / "config.json", fz::as_text(data, static_cast<std::size_t>(nul - data)));
  std::filesystem::remove(run / "metrics.jsonl");
  if (nul != data + size)
    fz::write_file(run / "metrics.jsonl",
                   fz::as_text(nul + 1, static_cast<std::size_t>(data + size - nul - 1)));

  std::string table;
  if (!fz::expect_clean("odenet_table", [&] { table = tr::odenet_table({run}); })) return 0;
  // Not a line count: config.json's strings may hold newlines, which the table copies as they are.
  if (!table.starts_with("| run |") || table.size() < 200)
    fz::finding("odenet_table: expected a header, a rule and one row, got:\n" + table);
  return 0;
}
