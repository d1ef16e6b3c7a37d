// Issue 21, bad input to `neuralode train odenet`, `bench odenet` and `table odenet` as users type
// it: each answer is one line on stderr naming the flag or file, exit status 2 (130 for Ctrl-C),
// no "internal error", no 300-digit range and no NaN printed as a result. Data: a tiny MNIST-style
// set of 12x12 images written per test.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "neuralode/train/checkpoint.hpp"
#include "support/run_cli.hpp"
#include "support/stripe_images.hpp"
#include "support/temp_dir.hpp"

namespace {

using neuralode::test_support::write_stripe_split;

namespace fs = std::filesystem;
using neuralode::test_support::CliRun;
using neuralode::test_support::contains;
using neuralode::test_support::lines_of;
using neuralode::test_support::read_file;
using neuralode::test_support::run_cli;
using neuralode::test_support::TempDir;

struct TinyData {
  TempDir tmp{"cliodenetbad"};
  explicit TinyData(std::uint32_t train = 16, std::uint32_t test = 8) {
    fs::create_directories(tmp / "data");
    write_stripe_split(tmp / "data", "train", train);
    write_stripe_split(tmp / "data", "t10k", test);
  }
  // `train odenet` on the set, resnet (cheapest on 12x12), quiet, batches of `batch` (8), into
  // `out` (tmp/run).
  std::string train(const std::string& extra, const std::string& out = "",
                    const std::string& batch = "8") const {
    return "train odenet --model resnet --data '" + (tmp / "data").string() + "' --batch-size " +
           batch + " --no-augment --quiet --out '" + (out.empty() ? run().string() : out) + "' " +
           extra;
  }
  fs::path run() const { return tmp / "run"; }
};

// A refused command line: exit 2, one line naming `part`, nothing a user should not see.
void expect_refused(const std::string& args, const std::string& part) {
  const CliRun r = run_cli(args);
  EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
  EXPECT_TRUE(contains(r.err, part)) << args << "\n" << r.err;
  EXPECT_FALSE(contains(r.err, "internal error")) << args << "\n" << r.err;
  EXPECT_FALSE(contains(r.err, "1797693")) << args << "\n" << r.err;  // CLI11's double range
  EXPECT_FALSE(contains(r.out + r.err, "nan")) << args << "\n" << r.out << r.err;
}

TEST(CliOdeNetBadInput, NumericFlagsNameTheirRange) {
  expect_refused("train odenet --epochs 0",
                 "--epochs: must be an integer in [1, 2147483647], got 0");
  expect_refused("train odenet --epochs 1e3", "--epochs: must be an integer");
  expect_refused("train odenet --batch-size 0", "--batch-size: must be an integer in [1, ");
  expect_refused("train odenet --lr 0", "--lr: must be a finite number > 0, got 0");
  expect_refused("train odenet --lr inf", "--lr: must be a finite number > 0");
  expect_refused("train odenet --tol -1", "--tol: must be a finite number > 0");
  expect_refused("train odenet --tol 1e-9", "--tol = 1e-09; accepted: a finite number >= 1.2e-07");
  expect_refused("train odenet --threads 0", "--threads: must be an integer in [1, 1024], got 0");
  expect_refused("train odenet --train-size -1", "--train-size: must be an integer >= 0");
  expect_refused("train odenet --test-size x", "--test-size: must be an integer >= 0, got 'x'");
  expect_refused("train odenet --stop-after -1", "--stop-after: must be an integer in [0, ");
  expect_refused("train odenet --seed -1", "--seed: must be an integer >= 0");
  expect_refused("bench odenet --iters 0", "--iters: must be an integer in [1, 1000000], got 0");
  expect_refused("bench odenet --warmup -1", "--warmup: must be an integer in [0, 1000000]");
  expect_refused("bench odenet --batch-size 0", "--batch-size: must be an integer in [1, ");
}

TEST(CliOdeNetBadInput, WordFlagsListTheAcceptedWords) {
  expect_refused("train odenet --grad magic", "--grad: unknown gradient method 'magic'; accepted:");
  expect_refused("train odenet --method rk45", "--method:");
  expect_refused("bench odenet --model resnet --grad adjoint",
                 "--grad adjoint does not apply to --model resnet");
  expect_refused("train odenet --model resnet --method rk4",
                 "--method rk4 does not apply to --model resnet");
}

// Issue 21: `bench odenet --data /no/such/dir` benchmarked random pixels and exited 0.
TEST(CliOdeNetBadInput, BenchWithAnUnreadableDataDirectoryExitsTwo) {
  expect_refused("bench odenet --data /no/such/neuralode-dir --iters 1 --warmup 0",
                 "--data /no/such/neuralode-dir");
  const CliRun r =
      run_cli("bench odenet --data random --model resnet --batch-size 2 --iters 1 --warmup 0");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "data: random pixels")) << r.out;
  const CliRun help = run_cli("bench odenet --help");
  EXPECT_TRUE(contains(help.out, "a --data that is given must be")) << help.out;
}

// Issue 21: an empty test set printed "test accuracy -nan %".
TEST(CliOdeNetBadInput, EmptyTestSetExitsTwoWithoutPrintingNaN) {
  TinyData d(16, 0);
  expect_refused(d.train("--epochs 1"), "has 0 images; accepted: at least 1");
}

TEST(CliOdeNetBadInput, UnusableOutIsNamedBeforeWork) {
  TinyData d;
  expect_refused("train odenet --epochs 1 --out ''", "--out is empty");
  std::ofstream(d.tmp / "file") << "x";
  expect_refused(d.train("--epochs 1", (d.tmp / "file" / "run").string()),
                 "is a file, not a directory");
}

// Issue 21: a diverging run (--lr 1e30) ended with exit 0 and a null test loss.
TEST(CliOdeNetBadInput, DivergingRunExitsTwoNamingTheIteration) {
  TinyData d;
  const CliRun r = run_cli(d.train("--epochs 2 --lr 1e30"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "iteration")) << r.err;
  EXPECT_TRUE(contains(r.err, "diverged")) << r.err;
  EXPECT_TRUE(contains(r.err, "lower --lr")) << r.err;
  EXPECT_FALSE(contains(r.out, "test accuracy")) << r.out;
}

// Issue 21: --resume with another --batch-size dropped earlier epochs from metrics.jsonl; a
// checkpoint with non-numeric metadata gave "internal error: stoi"; a new run into a run's
// directory truncated its metrics.
TEST(CliOdeNetBadInput, ResumeAndRerunProblemsChangeNothing) {
  TinyData d;
  const CliRun first = run_cli(d.train("--epochs 2 --stop-after 1"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string metrics = read_file(d.run() / "metrics.jsonl");
  ASSERT_EQ(lines_of(metrics).size(), 1u);
  expect_refused(d.train("--epochs 2"), "already holds a run");
  expect_refused(d.train("--epochs 2 --resume", "", "4"),
                 "--batch-size (batch_size = 4) differs from the run being resumed (batch_size = "
                 "8");
  expect_refused(d.train("--epochs 3 --resume"), "--epochs (epochs = 3) differs");
  EXPECT_EQ(read_file(d.run() / "metrics.jsonl"), metrics);
  const fs::path ckpt = d.run() / "checkpoint.safetensors";
  neuralode::train::Checkpoint c = neuralode::train::read_checkpoint(ckpt);
  c.metadata["epoch"] = "first";
  neuralode::train::write_checkpoint(ckpt, c);
  expect_refused(d.train("--epochs 2 --resume"),
                 "metadata 'epoch' = 'first' is not an integer; accepted:");
  EXPECT_EQ(read_file(d.run() / "metrics.jsonl"), metrics);
}

// Issue 21: a wrongly typed config.json gave a raw JSON type error.
TEST(CliOdeNetBadInput, TableOfAWronglyTypedConfigNamesTheFileAndKey) {
  TinyData d;
  ASSERT_EQ(run_cli(d.train("--epochs 1")).exit_code, 0);
  auto j = nlohmann::json::parse(read_file(d.run() / "config.json"));
  j["grad"] = nlohmann::json::array({1});
  std::ofstream(d.run() / "config.json") << j.dump();
  expect_refused("table odenet '" + d.run().string() + "'",
                 "config.json: 'grad' is an array ([1]); accepted: a string");
  std::ofstream(d.run() / "config.json") << "{\"model\": ";
  expect_refused("table odenet '" + d.run().string() + "'", "is not valid JSON");
}

// Issue 21: Ctrl-C lost the work since the last checkpoint. The run gets SIGINT once its first
// epoch is logged; it finishes the iteration in progress, writes a checkpoint and exits 130;
// --resume then continues to the next epoch.
TEST(CliOdeNetBadInput, SigintWritesACheckpointAndExits130) {
  TinyData d;
  const fs::path out = d.tmp / "stdout", err = d.tmp / "stderr";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr))
      _exit(127);
    const std::string data = (d.tmp / "data").string(), run = d.run().string();
    execl(NEURALODE_CLI_PATH, "neuralode", "train", "odenet", "--model", "resnet", "--data",
          data.c_str(), "--batch-size", "8", "--no-augment", "--quiet", "--epochs", "100000",
          "--out", run.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait (without a time limit on the result) until an epoch is on disk, then press Ctrl-C.
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 6000 && !exited; ++i) {
    if (lines_of(read_file(d.run() / "metrics.jsonl")).size() >= 1) break;
    exited = waitpid(pid, &status, WNOHANG) == pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(exited) << read_file(err);
  ASSERT_EQ(kill(pid, SIGINT), 0);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130) << read_file(err);
  const std::string message = read_file(err);
  EXPECT_TRUE(contains(message, "stopped by SIGINT; checkpoint written to")) << message;
  EXPECT_TRUE(contains(message, "continue with --resume")) << message;
  ASSERT_TRUE(fs::exists(d.run() / "checkpoint.safetensors"));
  const std::size_t done = lines_of(read_file(d.run() / "metrics.jsonl")).size();
  const CliRun resumed =
      run_cli(d.train("--epochs 100000 --resume --stop-after " + std::to_string(done + 1)));
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto lines = lines_of(read_file(d.run() / "metrics.jsonl"));
  ASSERT_EQ(lines.size(), done + 1);
  for (std::size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(nlohmann::json::parse(lines[i])["epoch"].get<int>(), static_cast<int>(i) + 1);
}

}  // namespace
