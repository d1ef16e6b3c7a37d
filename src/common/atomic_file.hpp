// Writing a whole file so that readers and crashes see either the old contents or the new ones,
// never a torn mix: the one place the library does "write a temporary file, then rename".
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

namespace neuralode::detail {

// Replaces the file at `path` with the concatenation of `pieces` (an existing file is replaced
// whole; a missing one is created with mode 0666 less the umask). The bytes go to a new temporary
// file in path's directory, which is flushed to disk and renamed over `path`; the directory is
// then flushed too (best effort). On any failure the temporary file is removed, the file at
// `path` is left exactly as it was, and IoError is thrown reading
//   "<what> '<path>': <step that failed, naming the temporary file>: <strerror(errno)>",
// where the step is one of "cannot create the temporary file '<tmp>'", "writing '<tmp>'",
// "flushing '<tmp>' to disk", "closing '<tmp>'" and "renaming '<tmp>' over it".
// `what` names the caller's operation, e.g. "write_checkpoint" or "Figure::save: cannot write".
void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::string_view> pieces, std::string_view what);

// The same for bytes already in one buffer.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                                  std::string_view what) {
  write_file_atomically(path, std::span<const std::string_view>(&bytes, 1), what);
}

// Removes the temporary files that write_file_atomically left in `dir` when its process was killed
// between creating and renaming them (".<name>.<pid>.<n>.tmp" whose process no longer runs).
// Files of live processes and every other file are left alone. Returns how many were removed;
// never throws (a file that cannot be removed stays).
int remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace neuralode::detail
