// prepare_run_directory: the checks on --out before a run starts (see run_directory.hpp).
#include "neuralode/train/run_directory.hpp"

#include <unistd.h>

#include <system_error>

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::train {

using detail::cat;
namespace fs = std::filesystem;

void prepare_run_directory(const fs::path& out, bool resume, std::string_view what) {
  if (out.empty())
    throw InvalidArgument(cat(what, ": --out is empty; give the directory to write the run into"));
  // Walk up to the deepest existing ancestor: if it is not a directory, no directory can be made
  // below it, and saying which component is a file is more useful than ENOTDIR.
  std::error_code ec;
  for (fs::path p = out; !p.empty(); p = p.parent_path()) {
    const fs::file_status st = fs::status(p, ec);
    if (fs::exists(st)) {
      if (!fs::is_directory(st))
        throw IoError(cat(what, ": cannot use --out '", out.string(), "': '", p.string(),
                          "' is a file, not a directory"));
      break;
    }
    if (p == p.parent_path()) break;
  }
  fs::create_directories(out, ec);
  if (ec)
    throw IoError(
        cat(what, ": cannot create the run directory '", out.string(), "': ", ec.message()));
  if (::access(out.c_str(), W_OK | X_OK) != 0) {
    const int err = errno;  // before anything else can change it
    throw IoError(cat(what, ": cannot write into the run directory '", out.string(),
                      "': ", detail::errno_text(err)));
  }
  if (!resume) {
    // An empty metrics.jsonl is what a run leaves that stopped before its first line (diverged
    // or was killed early, with no checkpoint either): nothing to keep, and refusing it would
    // leave the user with a directory that neither --resume nor a new run accepts.
    for (const char* marker : {"checkpoint.safetensors", "metrics.jsonl"}) {
      const fs::path p = out / marker;
      // file_size fails (and returns -1) for anything but a regular file: counted as present.
      const bool present = fs::exists(p, ec) && fs::file_size(p, ec) != 0;
      if (present)
        throw InvalidArgument(cat(what, ": '", out.string(), "' already holds a run (", marker,
                                  "); continue it with --resume, or choose another --out"));
    }
  }
  detail::remove_stale_temporaries(out);
}

}  // namespace neuralode::train
