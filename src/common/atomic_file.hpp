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

}  // namespace neuralode::detail
