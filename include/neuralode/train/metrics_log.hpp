// MetricsLog: a training run's metrics as JSON lines (one JSON object per line, jsonlines.org),
// flushed line by line so a crashed run keeps everything up to its last iteration and tools
// (pandas.read_json(lines=True), jq) can read the file while the run goes on.
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace neuralode::train {

// One line's fields, in the order added: MetricsRecord().add("iteration", 12).add("loss", 0.31).
// Numbers are written in the shortest form that reads back to the same double; NaN and Inf,
// which JSON cannot hold, are written as null.
class MetricsRecord {
 public:
  struct Json {  // a JSON value given as text, kept as is (a nested object, e.g. solver stats)
    std::string text;
  };
  using Value = std::variant<std::int64_t, double, std::string, bool, Json>;

  MetricsRecord& add(std::string key, double value) { return put(std::move(key), value); }
  MetricsRecord& add(std::string key, float value) { return put(std::move(key), double(value)); }
  MetricsRecord& add(std::string key, bool value) { return put(std::move(key), value); }
  template <std::integral T>
  requires(!std::same_as<T, bool>) MetricsRecord& add(std::string key, T value) {
    return put(std::move(key), static_cast<std::int64_t>(value));
  }
  MetricsRecord& add(std::string key, std::string_view value) {
    return put(std::move(key), std::string(value));
  }
  MetricsRecord& add(std::string key, const char* value) {
    return put(std::move(key), std::string(value));
  }
  // json_text must be one valid JSON value (checked when the line is written: InvalidArgument).
  MetricsRecord& add_json(std::string key, std::string json_text) {
    return put(std::move(key), Json{std::move(json_text)});
  }

  const std::vector<std::pair<std::string, Value>>& fields() const { return fields_; }
  // The line without its newline: {"iteration":12,"loss":0.31}.
  std::string to_json() const;

 private:
  MetricsRecord& put(std::string key, Value v) {
    fields_.emplace_back(std::move(key), std::move(v));
    return *this;
  }
  std::vector<std::pair<std::string, Value>> fields_;
};

struct MetricsLogOptions {
  // Keep the file's lines and add after them (resuming a run). false starts the file empty (a
  // new run); a missing file is created either way.
  bool append = false;
  // When appending: first drop the lines whose "iteration" is greater than this, i.e. those a
  // crashed run wrote after the checkpoint it resumes from, so the resumed log reads like an
  // uninterrupted run's. -1 keeps every line. Costs one rewrite of the file (temp + rename).
  // Either way a torn last line (no newline: a crash mid-write) is dropped before appending, and
  // a line that is not a JSON object anywhere else makes the constructor throw IoError naming
  // the file and the line, leaving the file as it was.
  std::int64_t drop_after_iteration = -1;
  // The key whose integer value drop_after_iteration compares against ("iter" for the spiral
  // demo's lines, whose required key it is).
  std::string iteration_key = "iteration";
};

class MetricsLog {
 public:
  // Opens (creating) path; IoError naming the file and the reason when it cannot.
  explicit MetricsLog(std::filesystem::path path, const MetricsLogOptions& options = {});

  // Appends record as one line and flushes it. IoError when the write fails (disk full).
  void write(const MetricsRecord& record);
  const std::filesystem::path& path() const { return path_; }
  std::int64_t num_lines_written() const { return num_lines_written_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
  std::int64_t num_lines_written_ = 0;
};

}  // namespace neuralode::train
