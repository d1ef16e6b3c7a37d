// The run directory and the stop signal (issue 21): prepare_run_directory refuses unusable or
// occupied --out places before any work with messages that name the path and the reason, and
// removes the temporary files of killed writers; StopSignal turns SIGINT/SIGTERM into a flag, gives
// the default action back on a second signal and leaves an ignored signal ignored.
#include "neuralode/train/run_directory.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/atomic_file.hpp"
#include "neuralode/error.hpp"
#include "neuralode/train/stop_signal.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

using neuralode::test_support::contains;
using neuralode::test_support::message_of;
using neuralode::test_support::write_bytes;

namespace neuralode::train {
namespace {

namespace fs = std::filesystem;
using test_support::read_file;
using test_support::TempDir;

// A pid that no process has: a child that has exited and been reaped (pids are reused only after
// the kernel wraps around its pid range, far beyond what a test's few forks take).
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// ---- prepare_run_directory ----------------------------------------------------------------------

TEST(PrepareRunDirectory, CreatesAMissingDirectoryAndItsParents) {
  TempDir dir{"rundir"};
  prepare_run_directory(dir / "a/b/run", false, "train spiral");
  EXPECT_TRUE(fs::is_directory(dir / "a/b/run"));
}

TEST(PrepareRunDirectory, RejectsAnEmptyOut) {
  const std::string msg =
      message_of<InvalidArgument>([] { prepare_run_directory("", false, "train spiral"); });
  EXPECT_TRUE(contains(msg, "train spiral: --out is empty")) << msg;
}

TEST(PrepareRunDirectory, NamesTheComponentThatIsAFile) {
  TempDir dir{"rundir"};
  write_bytes(dir / "file", "x");
  for (const fs::path& out : {dir / "file", dir / "file/run", dir / "file/a/b"}) {
    const std::string msg =
        message_of<IoError>([&] { prepare_run_directory(out, false, "train spiral"); });
    EXPECT_TRUE(contains(msg, "'" + (dir / "file").string() + "' is a file, not a directory"))
        << msg;
    EXPECT_TRUE(contains(msg, out.string())) << msg;
  }
  EXPECT_EQ(read_file(dir / "file"), "x");
}

// Unwritable places: a directory without write permission (for users other than root, whom
// permissions do not stop) or, as root, a directory of the proc file system, where nobody can
// create anything.
TEST(PrepareRunDirectory, ExplainsAnUnwritableParent) {
  TempDir dir{"rundir"};
  fs::path parent = dir / "readonly";
  if (::geteuid() == 0) {
    if (!fs::exists("/proc/self/status")) GTEST_SKIP() << "root, and no /proc to test with";
    parent = "/proc";
  } else {
    fs::create_directories(parent);
    fs::permissions(parent, fs::perms::owner_read | fs::perms::owner_exec);
  }
  const fs::path out = parent / "neuralode-run-directory-test";
  const std::string msg =
      message_of<IoError>([&] { prepare_run_directory(out, false, "train spiral"); });
  EXPECT_TRUE(contains(msg, "train spiral: cannot create the run directory '" + out.string()))
      << msg;
  EXPECT_FALSE(fs::exists(out));
}

TEST(PrepareRunDirectory, ExplainsAnExistingDirectoryWithoutWritePermission) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes through permissions";
  TempDir dir{"rundir"};
  fs::create_directories(dir / "run");
  fs::permissions(dir / "run", fs::perms::owner_read | fs::perms::owner_exec);
  const std::string msg =
      message_of<IoError>([&] { prepare_run_directory(dir / "run", true, "train spiral"); });
  EXPECT_TRUE(contains(msg, "cannot write into the run directory")) << msg;
  EXPECT_TRUE(contains(msg, "Permission denied")) << msg;
}

// Regression (issue 21): a new run into an old run's directory truncated its metrics and left the
// old checkpoint beside them. Now it is refused, and nothing there changes.
TEST(PrepareRunDirectory, RefusesANewRunOverAnExistingOneAndChangesNothing) {
  for (const char* marker : {"checkpoint.safetensors", "metrics.jsonl"}) {
    TempDir dir{"rundir"};
    write_bytes(dir / marker, "old run");
    const std::string msg =
        message_of<InvalidArgument>([&] { prepare_run_directory(dir.path(), false, "spiral"); });
    EXPECT_TRUE(contains(msg, std::string("already holds a run (") + marker)) << msg;
    EXPECT_TRUE(contains(msg, "--resume")) << msg;
    EXPECT_EQ(read_file(dir / marker), "old run");
    EXPECT_NO_THROW(prepare_run_directory(dir.path(), true, "spiral"));  // resuming is fine
  }
}

// What a run leaves that stopped before its first metrics line: an empty metrics.jsonl and no
// checkpoint. Neither --resume (no checkpoint) nor a new run could use the directory if it counted.
TEST(PrepareRunDirectory, AcceptsANewRunOverAnEmptyMetricsLogAlone) {
  TempDir dir{"rundir"};
  write_bytes(dir / "metrics.jsonl", "");
  EXPECT_NO_THROW(prepare_run_directory(dir.path(), false, "spiral"));
}

TEST(PrepareRunDirectory, RemovesTemporariesOfDeadWritersOnly) {
  TempDir dir{"rundir"};
  const std::string dead = ".checkpoint.safetensors." + std::to_string(dead_pid()) + ".0.tmp";
  const std::string live = ".checkpoint.safetensors.1.0.tmp";  // pid 1 always runs
  const std::string mine = ".metrics.jsonl." + std::to_string(::getpid()) + ".3.tmp";
  for (const std::string& name : {dead, live, mine, std::string("notes.tmp")})
    write_bytes(dir / name, "partial");
  fs::create_directories(dir / (".x." + std::to_string(dead_pid()) + ".0.tmp"));  // not a file
  prepare_run_directory(dir.path(), true, "spiral");
  EXPECT_FALSE(fs::exists(dir / dead));
  EXPECT_TRUE(fs::exists(dir / live));
  EXPECT_TRUE(fs::exists(dir / mine));
  EXPECT_TRUE(fs::exists(dir / "notes.tmp"));
  EXPECT_EQ(detail::remove_stale_temporaries(dir.path()), 0);  // the directory stays too
}

TEST(RemoveStaleTemporaries, CountsWhatItRemovesAndNeverThrows) {
  TempDir dir{"rundir"};
  const pid_t pid = dead_pid();
  write_bytes(dir / (".a." + std::to_string(pid) + ".0.tmp"), "");
  write_bytes(dir / (".b." + std::to_string(pid) + ".7.tmp"), "");
  write_bytes(dir / (".c." + std::to_string(pid) + ".x.tmp"), "");  // not the writer's pattern
  EXPECT_EQ(detail::remove_stale_temporaries(dir.path()), 2);
  EXPECT_TRUE(fs::exists(dir / (".c." + std::to_string(pid) + ".x.tmp")));
  EXPECT_EQ(detail::remove_stale_temporaries(dir / "missing"), 0);
}

// ---- StopSignal ---------------------------------------------------------------------------------

TEST(StopSignal, TurnsSigintAndSigtermIntoARequestNamingTheSignal) {
  for (const int sig : {SIGINT, SIGTERM}) {
    StopSignal stop;
    EXPECT_FALSE(stop.requested());
    ASSERT_EQ(::raise(sig), 0);  // the handler runs before raise returns (same thread)
    EXPECT_TRUE(stop.requested());
    EXPECT_EQ(stop.signal_number(), sig);
    const Interrupted e = stop.interrupted("spiral: iteration 7", "/runs/a/checkpoint.safetensors");
    EXPECT_EQ(e.signal_number(), sig);
    const std::string msg = e.what();
    EXPECT_TRUE(contains(msg, sig == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM")) << msg;
    EXPECT_TRUE(contains(msg, "spiral: iteration 7")) << msg;
    EXPECT_TRUE(contains(msg, "'/runs/a/checkpoint.safetensors'; continue with --resume")) << msg;
  }
}

TEST(StopSignal, RestoresThePreviousHandlerAndFlag) {
  struct sigaction before {};
  ::sigaction(SIGINT, nullptr, &before);
  {
    StopSignal outer;
    {
      StopSignal inner;
      ::raise(SIGTERM);
      EXPECT_TRUE(inner.requested());
    }
    EXPECT_FALSE(outer.requested());  // the inner one's signal was the inner one's
  }
  struct sigaction after {};
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(StopSignalDeathTest, ASecondSignalEndsTheProcessAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        StopSignal stop;
        ::raise(SIGINT);
        ::raise(SIGINT);
        ::_exit(0);  // not reached
      },
      ::testing::KilledBySignal(SIGINT), "");
}

// A script's background job starts with SIGINT ignored, so that Ctrl-C meant for the foreground
// does not reach it; StopSignal must not undo that.
TEST(StopSignal, LeavesAnIgnoredSignalIgnored) {
  struct sigaction ignore {
  }, saved{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGINT, &ignore, &saved);
  {
    StopSignal stop;
    struct sigaction now {};
    ::sigaction(SIGINT, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_IGN);
    ::raise(SIGINT);
    EXPECT_FALSE(stop.requested());
    ::sigaction(SIGTERM, nullptr, &now);
    EXPECT_NE(now.sa_handler, SIG_IGN);  // SIGTERM was not ignored: it is caught
  }
  ::sigaction(SIGINT, &saved, nullptr);
}

}  // namespace
}  // namespace neuralode::train
