// `neuralode train spiral` and `neuralode bench spiral` given bad input (issue 21), run as users
// run them: every numeric flag has its range checked with a message naming the flag, the value and
// the accepted range; bad words list the accepted ones; unusable --out places, occupied run
// directories, mismatched resumes and diverging runs exit 2 with a clear message and leave what was
// written before unchanged; SIGINT/SIGTERM finish the step, write a checkpoint and exit 128+signal,
// and a resume afterwards continues exactly as an uninterrupted run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "neuralode/train/checkpoint.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using neuralode::test_support::CliRun;
using neuralode::test_support::contains;
using neuralode::test_support::read_file;
using neuralode::test_support::run_cli;
using neuralode::test_support::TempDir;

std::string q(const fs::path& p) {
  return "'" + p.string() + "'";
}

// iter -> whole-trajectory loss, from a metrics.jsonl.
std::map<int, double> losses(const fs::path& metrics) {
  std::map<int, double> out;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    out[j["iter"].get<int>()] = j["loss"].get<double>();
  }
  return out;
}

struct BadFlag {
  const char* args;
  const char* message_part;
};

void expect_refused(const std::string& command, const BadFlag& c) {
  const CliRun run = run_cli(command + " " + c.args);
  EXPECT_EQ(run.exit_code, 2) << c.args << ": " << run.err;
  EXPECT_TRUE(contains(run.err, c.message_part)) << c.args << ": " << run.err;
  EXPECT_FALSE(contains(run.err, "internal error")) << run.err;
  EXPECT_FALSE(contains(run.err, "1797693134862315708")) << run.err;  // CLI11's double range
}

// ---- flags --------------------------------------------------------------------------------------

TEST(CliSpiralBadInput, EveryNumericFlagNamesItsAcceptedRange) {
  const std::vector<BadFlag> shared = {
      {"--iters 0", "--iters: must be an integer in [1, 2147483647], got 0"},
      {"--iters -5", "--iters: must be an integer in [1, 2147483647], got -5"},
      {"--iters 1e3", "--iters: must be an integer in [1, 2147483647], got 1e3"},
      {"--iters 99999999999", "--iters: must be an integer in [1, 2147483647], got 99999999999"},
      {"--rtol 0", "--rtol: must be a finite number > 0, got 0"},
      {"--atol nan", "--atol: must be a finite number > 0, got nan"},
      {"--lr -1", "--lr: must be a finite number > 0, got -1"},
      {"--lr inf", "--lr: must be a finite number > 0, got inf"},
      {"--batch-size 0", "--batch-size: must be an integer in [1, 2147483647], got 0"},
      {"--batch-time 1", "--batch-time: must be an integer in [2, 2147483647], got 1"},
      {"--seed -1", "--seed: must be an integer in [0, 18446744073709551615], got '-1'"},
      {"--seed 18446744073709551616", "--seed: must be an integer in [0, 18446744073709551615]"},
      {"--threads 0", "--threads: must be an integer in [1, 1024], got 0"},
      {"--max-steps 0", "--max-steps: must be an integer >= 1, got 0"},
      {"--threads 5000", "--threads: must be an integer in [1, 1024], got 5000"},
      // Ranges that depend on other values come from SpiralOptions::validate().
      {"--batch-time 1000",
       "spiral: --batch-time = 1000 is out of range; accepted: an integer in [2, 999]"},
      {"--batch-size 995", "spiral: --batch-size = 995 is more than the 990 windows"},
      // Words list what is accepted.
      {"--dtype float16", "--dtype 'float16' is not accepted; accepted: float32, float64"},
      {"--method magic", "--method: unknown method 'magic'; accepted: "},
      {"--grad magic", "--grad: unknown gradient method 'magic'; accepted: "},
      {"--adjoint-norm half",
       "--adjoint-norm: unknown adjoint norm 'half'; accepted: full, seminorm"},
  };
  TempDir dir{"cli_spiral_bad"};
  for (const auto& c : shared) {
    expect_refused("train spiral --out " + q(dir / "never"), c);
    expect_refused("bench spiral", c);
  }
  expect_refused("train spiral --out " + q(dir / "never"),
                 {"--test-freq 0", "--test-freq: must be an integer in [1, 2147483647], got 0"});
  expect_refused("bench spiral",
                 {"--warmup -1", "--warmup: must be an integer in [0, 2147483647]"});
  EXPECT_FALSE(fs::exists(dir / "never"));
}

// Regression (issue 21): `bench spiral --iters 10 --warmup 20` reported 0 ms per step.
TEST(CliSpiralBadInput, BenchRefusesAWarmupThatLeavesNoStepToTime) {
  expect_refused("bench spiral", {"--iters 10 --warmup 20",
                                  "spiral: --warmup = 20 is out of range for --iters = 10"});
  expect_refused("bench spiral", {"--iters 10 --warmup 10", "accepted: an integer in [0, 9]"});
}

// Regression (issue 21): bench spiral wrote into one fixed path under /tmp that every run shared.
TEST(CliSpiralBadInput, BenchWritesIntoAPrivateDirectoryItRemoves) {
  TempDir tmp{"cli_spiral_bench"};
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  const CliRun run = run_cli("bench spiral --iters 6 --warmup 1 --repeats 2 --json");
  // A second one while a directory of a "crashed" benchmark is there.
  fs::create_directories(tmp / "neuralode-bench-spiral");
  const CliRun again = run_cli("bench spiral --iters 6 --warmup 1 --json");
  if (old)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_GT(nlohmann::json::parse(run.out)["ms_per_iter"].get<double>(), 0);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(tmp.path())) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"neuralode-bench-spiral"});  // only the one we made
}

// ---- the run directory --------------------------------------------------------------------------

TEST(CliSpiralBadInput, UnusableOutPlacesAreExplainedBeforeAnyTraining) {
  TempDir dir{"cli_spiral_bad"};
  { std::ofstream(dir / "file") << "x"; }
  expect_refused("train spiral --iters 2", {"--out ''", "spiral: --out is empty"});
  expect_refused("train spiral --iters 2",
                 {("--out " + q(dir / "file/run")).c_str(),
                  ("'" + (dir / "file").string() + "' is a file, not a directory").c_str()});
  expect_refused("train spiral --iters 2",
                 {("--out " + q(dir / "file")).c_str(), "is a file, not a directory"});
  EXPECT_EQ(read_file(dir / "file"), "x");
}

// Regression (issue 21): a new run into an existing run directory truncated its metrics and left
// the old checkpoint beside them.
TEST(CliSpiralBadInput, ANewRunIntoAnExistingRunIsRefusedAndNothingChanges) {
  TempDir dir{"cli_spiral_bad"};
  const std::string out = "--out " + q(dir / "run") + " --quiet";
  ASSERT_EQ(run_cli("train spiral --iters 4 --test-freq 2 " + out).exit_code, 0);
  const std::string ckpt = read_file(dir / "run/checkpoint.safetensors");
  const std::string metrics = read_file(dir / "run/metrics.jsonl");
  expect_refused("train spiral --iters 4 " + out,
                 {"", "already holds a run (checkpoint.safetensors); continue it with --resume"});
  EXPECT_EQ(read_file(dir / "run/checkpoint.safetensors"), ckpt);
  EXPECT_EQ(read_file(dir / "run/metrics.jsonl"), metrics);
}

// Regression (issue 21): `--resume --lr 0.1` kept the old rate but recorded the new one, and a
// --batch-size change dropped earlier lines from metrics.jsonl.
TEST(CliSpiralBadInput, ResumeWithOptionsThatDefineTheRunIsRefusedNamingBothValues) {
  TempDir dir{"cli_spiral_bad"};
  const std::string out = "--out " + q(dir / "run") + " --quiet";
  ASSERT_EQ(run_cli("train spiral --iters 4 --test-freq 2 " + out).exit_code, 0);
  const std::string ckpt = read_file(dir / "run/checkpoint.safetensors");
  const std::string metrics = read_file(dir / "run/metrics.jsonl");
  expect_refused("train spiral --resume --iters 8 " + out,
                 {"--lr 0.1", "spiral --resume: --lr = 0.1 differs from the checkpoint's 0.001"});
  expect_refused("train spiral --resume --iters 8 " + out,
                 {"--batch-size 7", "--batch-size = 7 differs from the checkpoint's 20"});
  EXPECT_EQ(read_file(dir / "run/checkpoint.safetensors"), ckpt);
  EXPECT_EQ(read_file(dir / "run/metrics.jsonl"), metrics);
  // --iters and --test-freq may change; the earlier lines stay.
  const CliRun ok = run_cli("train spiral --resume --iters 8 --test-freq 4 " + out);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto l = losses(dir / "run/metrics.jsonl");
  EXPECT_EQ(l.size(), 3u);  // 2, 4, then 8
  EXPECT_TRUE(l.count(2) && l.count(4) && l.count(8));
}

TEST(CliSpiralBadInput, ACorruptCheckpointIsNamedWithItsProblem) {
  TempDir dir{"cli_spiral_bad"};
  const std::string out = "--out " + q(dir / "run") + " --quiet";
  ASSERT_EQ(run_cli("train spiral --iters 2 --test-freq 2 " + out).exit_code, 0);
  auto ck = neuralode::train::read_checkpoint(dir / "run/checkpoint.safetensors");
  ck.metadata[neuralode::train::kIterationKey] = "two";
  neuralode::train::write_checkpoint(dir / "run/checkpoint.safetensors", ck);
  expect_refused("train spiral --resume --iters 4 " + out,
                 {"", "metadata 'iteration' = 'two' is not an integer"});
}

// Regression (issue 21): a diverging run ended with exit 0 and null losses.
TEST(CliSpiralBadInput, ADivergingRunExitsTwoNamingTheIterationAndLr) {
  TempDir dir{"cli_spiral_bad"};
  const CliRun run = run_cli("train spiral --iters 40 --lr 1e30 --quiet --out " + q(dir / "run"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "spiral: iteration 2")) << run.err;
  EXPECT_TRUE(contains(run.err, "try a lower --lr (now 1e+30)")) << run.err;
  EXPECT_FALSE(fs::exists(dir / "run/checkpoint.safetensors"));
  EXPECT_FALSE(contains(read_file(dir / "run/metrics.jsonl"), "null"));
  // Starting again with a lower rate in the same place works (nothing worth keeping was there).
  const CliRun again = run_cli("train spiral --iters 4 --quiet --out " + q(dir / "run"));
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST(CliSpiralBadInput, TemporariesOfKilledWritersAreRemovedAtTheNextStart) {
  TempDir dir{"cli_spiral_bad"};
  const std::string out = "--out " + q(dir / "run") + " --quiet";
  ASSERT_EQ(run_cli("train spiral --iters 2 --test-freq 2 " + out).exit_code, 0);
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // now a pid of no process
  const fs::path stale = dir / ("run/.checkpoint.safetensors." + std::to_string(child) + ".0.tmp");
  { std::ofstream(stale) << "half a checkpoint"; }
  ASSERT_EQ(run_cli("train spiral --resume --iters 4 " + out).exit_code, 0);
  EXPECT_FALSE(fs::exists(stale));
}

// ---- signals ------------------------------------------------------------------------------------

struct Child {
  pid_t pid = -1;
  fs::path err;
};

// Starts `neuralode <args...>` with SIGINT and SIGTERM at their default dispositions (a test
// runner may have them ignored) and stderr into a file.
Child start(const std::vector<std::string>& args, const fs::path& err) {
  std::vector<std::string> argv_s = {NEURALODE_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  Child c;
  c.err = err;
  EXPECT_EQ(posix_spawn(&c.pid, argv[0], &files, &attr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  return c;
}

// Waits for a file to appear; false after the deadline (generous: the machine may be loaded).
bool wait_for(const fs::path& p, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!fs::exists(p)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Ctrl-C (SIGINT) or `kill` (SIGTERM) during a long run: the step finishes, a checkpoint of it is
// written, the exit code is 128 + signal, and a resume continues exactly as the run would have:
// its losses equal an uninterrupted run's at every iteration both record.
TEST(CliSpiralBadInput, ASignalWritesACheckpointExitsWith128PlusSignalAndResumeContinues) {
  for (const int sig : {SIGINT, SIGTERM}) {
    TempDir dir{"cli_spiral_signal"};
    const fs::path ckpt = dir / "run/checkpoint.safetensors";
    Child c = start({"train", "spiral", "--iters", "100000000", "--test-freq", "3", "--quiet",
                     "--out", (dir / "run").string()},
                    dir / "err.txt");
    ASSERT_GT(c.pid, 0);
    const bool appeared = wait_for(ckpt, std::chrono::seconds(120));
    ::kill(c.pid, sig);
    int status = 0;
    ASSERT_EQ(::waitpid(c.pid, &status, 0), c.pid);
    ASSERT_TRUE(appeared) << "no checkpoint within 120 s";
    const std::string err = read_file(c.err);
    ASSERT_TRUE(WIFEXITED(status)) << "killed instead of stopping: " << err;
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig) << err;
    EXPECT_TRUE(contains(err, sig == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM")) << err;
    EXPECT_TRUE(
        contains(err, "checkpoint written to '" + ckpt.string() + "'; continue with --resume"))
        << err;

    const auto ck = neuralode::train::read_checkpoint(ckpt);  // whole and readable
    const std::int64_t stopped_at = neuralode::train::get_iteration(ck);
    ASSERT_GE(stopped_at, 3);
    EXPECT_TRUE(contains(err, "iteration " + std::to_string(stopped_at) + " of 100000000")) << err;
    for (const auto& e : fs::directory_iterator(dir / "run"))
      EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();

    const std::string iters = std::to_string(stopped_at + 7);
    const CliRun resumed = run_cli("train spiral --resume --test-freq 3 --quiet --iters " + iters +
                                   " --out " + q(dir / "run"));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(neuralode::train::get_iteration(neuralode::train::read_checkpoint(ckpt)),
              stopped_at + 7);
    const CliRun straight = run_cli("train spiral --test-freq 3 --quiet --iters " + iters +
                                    " --out " + q(dir / "straight"));
    ASSERT_EQ(straight.exit_code, 0) << straight.err;
    const auto a = losses(dir / "run/metrics.jsonl"), b = losses(dir / "straight/metrics.jsonl");
    EXPECT_EQ(a, b);  // the same iterations (multiples of 3 and the last), the same losses
  }
}

}  // namespace
