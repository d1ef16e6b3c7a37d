// The `neuralode` program as users run it: the built binary (NEURALODE_CLI_PATH) is started with
// its output captured, and its exit code, stdout and stderr are checked.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "neuralode/version.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

namespace {

using neuralode::test_support::CliRun;
using neuralode::test_support::contains;
using neuralode::test_support::lines_of;
using neuralode::test_support::read_file;
using neuralode::test_support::run_cli;

TEST(Cli, VersionPrintsTheLibraryVersion) {
  const CliRun run = run_cli("--version");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "neuralode " NEURALODE_VERSION_STRING "\n");
}

TEST(Cli, HelpListsTheSubcommands) {
  const CliRun run = run_cli("--help");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  for (const char* word : {"solve", "bench", "demo"})
    EXPECT_TRUE(contains(run.out, word)) << run.out;
}

TEST(Cli, SolveHelpListsMethodsProblemsAndDefaults) {
  const CliRun run = run_cli("solve --help");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  for (const char* word : {"dopri5", "tsit5", "dopri8", "arenstorf", "lotka_volterra", "--rtol",
                           "1e-07", "--max-steps", "--controller"})
    EXPECT_TRUE(contains(run.out, word)) << "missing '" << word << "' in:\n" << run.out;
}

TEST(CliSolve, JsonSummaryOfHarmonicIsAccurateAndComplete) {
  const CliRun run = run_cli("solve --problem harmonic --method dopri5 --format json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = lines_of(run.out);
  ASSERT_EQ(lines.size(), 1u) << run.out;
  const nlohmann::json j = nlohmann::json::parse(lines[0]);
  for (const char* key : {"problem", "method", "rtol", "atol", "t1", "y1", "error", "nfe",
                          "accepted", "rejected", "microseconds"})
    EXPECT_TRUE(j.contains(key)) << "missing key " << key << " in " << lines[0];
  EXPECT_EQ(j["problem"], "harmonic");
  EXPECT_EQ(j["method"], "dopri5");
  EXPECT_EQ(j["y1"].size(), 2u);
  // Default rtol = 1e-7, atol = 1e-9 over [0, 10]: the global error of dopri5 is ~1e-8.
  ASSERT_TRUE(j["error"].is_number()) << lines[0];
  EXPECT_LT(j["error"].get<double>(), 1e-6);
  EXPECT_GT(j["nfe"].get<int>(), 0);
  EXPECT_GT(j["accepted"].get<int>(), 0);
}

TEST(CliSolve, JsonErrorIsNullWithoutAReference) {
  const CliRun run = run_cli("solve --problem vanderpol --method tsit5 --format json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_TRUE(j["error"].is_null()) << run.out;
}

TEST(CliSolve, CsvHasAHeaderAndNPlusOneRows) {
  const CliRun run = run_cli("solve --problem kepler --method tsit5 --saveat 20");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = lines_of(run.out);
  ASSERT_EQ(lines.size(), 22u) << run.out;
  EXPECT_EQ(lines[0], "t,y0,y1,y2,y3");
  EXPECT_EQ(lines[1].substr(0, 2), "0,");
  for (std::size_t i = 1; i < lines.size(); ++i)
    EXPECT_EQ(std::count(lines[i].begin(), lines[i].end(), ','), 4) << lines[i];
}

TEST(CliSolve, CsvDefaultsToOneHundredIntervals) {
  const CliRun run = run_cli("solve --problem harmonic");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(lines_of(run.out).size(), 102u);
}

TEST(CliSolve, UnknownMethodExitsTwoListingAcceptedMethods) {
  const CliRun run = run_cli("solve --problem harmonic --method rk45");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "neuralode: ")) << run.err;
  EXPECT_TRUE(contains(run.err, "rk45")) << run.err;
  for (const char* method : {"dopri5", "tsit5", "bosh3"})
    EXPECT_TRUE(contains(run.err, method)) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
}

TEST(CliSolve, UnknownProblemExitsTwoListingAcceptedProblems) {
  const CliRun run = run_cli("solve --problem lorenz");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "lorenz")) << run.err;
  EXPECT_TRUE(contains(run.err, "arenstorf")) << run.err;
}

TEST(CliSolve, ZeroRtolExitsTwoNamingRtol) {
  const CliRun run = run_cli("solve --problem harmonic --rtol 0");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "neuralode: ")) << run.err;
  EXPECT_TRUE(contains(run.err, "rtol")) << run.err;
}

TEST(CliSolve, BadFlagExitsTwo) {
  EXPECT_EQ(run_cli("solve --problem harmonic --no-such-flag").exit_code, 2);
  EXPECT_EQ(run_cli("solve --problem harmonic --rtol abc").exit_code, 2);
  EXPECT_EQ(run_cli("solve").exit_code, 2);  // --problem is required
}

TEST(CliSolve, StepSizeRunsFixedSteps) {
  // 10 steps of 1.0 over [0, 10] with rk4: no error control, exactly 10 accepted steps.
  const CliRun run = run_cli("solve --problem harmonic --method rk4 --step-size 1 --format json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["accepted"].get<int>(), 10);
  EXPECT_EQ(j["rejected"].get<int>(), 0);
}

TEST(CliBenchSolvers, JsonPrintsOneValidObjectPerLine) {
  const CliRun run = run_cli("bench solvers --json --problems harmonic --methods dopri5");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = lines_of(run.out);
  EXPECT_EQ(lines.size(), 8u) << run.out;  // rtol = atol in 1e-3 ... 1e-10
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j["problem"], "harmonic");
    EXPECT_EQ(j["method"], "dopri5");
    for (const char* key : {"rtol", "atol", "error", "nfe", "accepted", "rejected", "microseconds"})
      EXPECT_TRUE(j.contains(key)) << "missing key " << key << " in " << line;
  }
}

TEST(CliBenchSolvers, RejectsAFixedStepMethod) {
  const CliRun run = run_cli("bench solvers --json --problems harmonic --methods rk4");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "rk4")) << run.err;
  EXPECT_TRUE(contains(run.err, "dopri5")) << run.err;
}

TEST(CliDemo, FinishesAndPointsToTheNextStep) {
  const CliRun run = run_cli("demo");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(contains(run.out, "arenstorf")) << run.out;
  EXPECT_TRUE(contains(run.out, "neuralode solve --help")) << run.out;
}

TEST(CliOdeNet, TrainHelpListsTheIssuesFlagsWithDefaults) {
  const CliRun run = run_cli("train odenet --help");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* flag : {"--model", "--data", "--epochs", "--batch-size", "--lr", "--method",
                           "--tol", "--grad", "--threads", "--out", "--resume", "--seed",
                           "--no-augment", "odenet, rknet, resnet", "fashion-mnist"})
    EXPECT_TRUE(contains(run.out, flag)) << flag << "\n" << run.out;
}

TEST(CliOdeNet, UnknownModelExitsTwoListingTheModels) {
  const CliRun run = run_cli("train odenet --model vgg --epochs 1");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "vgg")) << run.err;
  EXPECT_TRUE(contains(run.err, "odenet, rknet, resnet")) << run.err;
}

TEST(CliOdeNet, TableOfAMissingRunExitsTwoNamingIt) {
  const CliRun run = run_cli("table odenet /nonexistent-neuralode-run");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "nonexistent-neuralode-run")) << run.err;
}

// --repeats runs the same benchmark again (same seed, same work) and reports the median of the
// timings with the extremes and every run.
TEST(CliBench, RepeatsReportTheMedianAndTheExtremes) {
  const CliRun run = run_cli("bench spiral --iters 12 --warmup 2 --repeats 3 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["repeats"].get<int>(), 3);
  auto runs = j["ms_per_iter_runs"].get<std::vector<double>>();
  ASSERT_EQ(runs.size(), 3u);
  std::sort(runs.begin(), runs.end());
  EXPECT_EQ(j["ms_per_iter"].get<double>(), runs[1]);
  EXPECT_EQ(j["ms_per_iter_min"].get<double>(), runs[0]);
  EXPECT_EQ(j["ms_per_iter_max"].get<double>(), runs[2]);
  EXPECT_GT(runs[0], 0.0);
  const CliRun bad = run_cli("bench spiral --repeats 0");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "--repeats")) << bad.err;
}

TEST(CliOdeNet, BenchHelpListsItsFlags) {
  const CliRun run = run_cli("bench odenet --help");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* flag : {"--model", "--grad", "--iters", "--json", "--repeats"})
    EXPECT_TRUE(contains(run.out, flag)) << flag;
}

}  // namespace
