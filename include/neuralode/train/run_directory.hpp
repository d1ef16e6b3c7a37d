// The directory a training run writes into (--out): checked before any work starts, so a bad path
// gets a clear message instead of "internal error: filesystem error" after minutes of training,
// and a new run never silently mixes its files with an older run's.
#pragma once

#include <filesystem>
#include <string_view>

namespace neuralode::train {

// Makes `out` ready for a run of the program `what` ("train spiral"), or throws naming the problem:
// - InvalidArgument: `out` is empty;
// - IoError: a component of `out` is a file, or the directory cannot be created or written
//   (with the system's reason: "Permission denied", "Read-only file system", ...);
// - InvalidArgument: `resume` is false and `out` already holds a run (a checkpoint.safetensors or
//   a non-empty metrics.jsonl): "continue it with --resume, or choose another --out". Nothing is
//   deleted. (An empty metrics.jsonl alone is what a run leaves that stopped before its first
//   line; a new run may start over it.)
// Creates `out` (and its parents) when missing, and removes the temporary files that a killed
// process left there while writing (see detail::remove_stale_temporaries).
void prepare_run_directory(const std::filesystem::path& out, bool resume, std::string_view what);

}  // namespace neuralode::train
