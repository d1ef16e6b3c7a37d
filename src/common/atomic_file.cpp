// write_file_atomically: a temporary file, fsync, rename, fsync of the directory; see
// atomic_file.hpp.
#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::detail {

namespace {

// Writes all of `bytes`, retrying short writes and EINTR; returns 0 or an errno value.
int write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::string_view> pieces, std::string_view what) {
  // The temporary file must live in path's directory: rename(2) is atomic only within one file
  // system, and then readers see the old file or the new one, whole, never a mix.
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const auto fail_at = [&](const std::string& step, int err) {
    throw IoError(cat(what, " '", path.string(), "': ", step, ": ", errno_text(err)));
  };

  // A hidden name unique to this process (pid) and call (counter), so concurrent writers of the
  // same path, in this process or another, never share a temporary file. O_EXCL never opens an
  // existing entry; on EEXIST (a leftover of a crashed run that had the same pid) the next counter
  // value is tried.
  static std::atomic<unsigned> counter{0};
  std::filesystem::path tmp;
  int fd = -1;
  int err = 0;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = dir / cat(".", path.filename().string(), ".", ::getpid(), ".", counter++, ".tmp");
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    err = errno;
    if (fd < 0 && err != EEXIST) break;
  }
  if (fd < 0) fail_at(cat("cannot create the temporary file '", tmp.string(), "'"), err);

  // From here on the temporary file exists and is ours: every failure removes it.
  const auto fail = [&](const char* before, const char* after, int error) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    fail_at(cat(before, " '", tmp.string(), "'", after), error);
  };
  for (const std::string_view piece : pieces) {
    if ((err = write_all(fd, piece)) != 0) fail("writing", "", err);
  }
  // On disk before the rename: otherwise a crash or power loss after the rename could leave the
  // new name pointing at blocks that were never written, destroying the old file and the new.
  if (::fsync(fd) != 0) fail("flushing", " to disk", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) fail("closing", "", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming", " over it", errno);

  // Make the rename itself durable (the directory entry lives in the directory's blocks). Best
  // effort: the new file is already in place, and some file systems refuse fsync on a directory.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

int remove_stale_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  int removed = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    // The name write_file_atomically gives: "." + target + "." + pid + "." + counter + ".tmp".
    const std::string name = it->path().filename().string();
    if (name.size() < 8 || name[0] != '.' || !name.ends_with(".tmp")) continue;
    const std::string stem = name.substr(0, name.size() - 4);
    const std::size_t counter_dot = stem.rfind('.');
    if (counter_dot == std::string::npos || counter_dot == 0) continue;
    const std::size_t pid_dot = stem.rfind('.', counter_dot - 1);
    if (pid_dot == std::string::npos || pid_dot == 0) continue;
    const std::string pid_text = stem.substr(pid_dot + 1, counter_dot - pid_dot - 1);
    const std::string counter_text = stem.substr(counter_dot + 1);
    const auto all_digits = [](const std::string& s) {
      return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!all_digits(pid_text) || !all_digits(counter_text) || pid_text.size() > 9) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    // kill(pid, 0) fails with ESRCH only when no such process exists; EPERM means it runs.
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    // Only plain files: a directory or link that happens to have such a name is not ours.
    std::error_code type_error;
    if (!it->is_regular_file(type_error) || it->is_symlink(type_error)) continue;
    std::error_code remove_error;
    if (std::filesystem::remove(it->path(), remove_error)) ++removed;
  }
  return removed;
}

}  // namespace neuralode::detail
