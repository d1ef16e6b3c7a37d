// Bad input to `neuralode solve`, `bench solvers`, `demo` and `methods` as users type it (issue
// 21): exit code 2, one clear line on stderr naming the flag or value and what is accepted, and
// nothing on stdout. Runs that used to run for tens of minutes (tolerances below rounding, a
// 1e300-long interval, a 1e-300 fixed step) must end at once; they are not timed here, a hang
// shows up as the test's timeout.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "support/run_cli.hpp"

namespace {

using neuralode::test_support::CliRun;
using neuralode::test_support::contains;
using neuralode::test_support::run_cli;

// Runs `args`, expects exit code 2, no output, and every fragment on stderr.
void expect_refused(const std::string& args, std::initializer_list<const char*> fragments) {
  const CliRun run = run_cli(args);
  EXPECT_EQ(run.exit_code, 2) << args << "\nstderr: " << run.err;
  EXPECT_TRUE(run.out.empty()) << args << "\nstdout: " << run.out;
  for (const char* frag : fragments)
    EXPECT_TRUE(contains(run.err, frag)) << args << ": stderr lacks '" << frag << "':\n" << run.err;
}

const std::string kSolve = "solve --problem harmonic ";

// ---- Runs that used to hang ----

TEST(CliSolveBadInput, TolerancesBelowRoundingAreRefusedNamingTheUnitRoundoff) {
  expect_refused(kSolve + "--rtol 1e-300 --atol 1e-300",
                 {"neuralode: ", "rtol = 1e-300", "atol = 1e-300", "unit roundoff of double",
                  "accepted: rtol >= 1.11022e-16"});
  expect_refused(kSolve + "--rtol 1e-20 --atol 1e-30 --format json", {"unit roundoff"});
}

TEST(CliSolveBadInput, AFixedStepNeedingMoreThanTheCapIsRefusedUpFront) {
  expect_refused(kSolve + "--method rk4 --step-size 1e-300",
                 {"would take 1e+301 steps", "max_num_steps = 1000000", "--max-steps"});
  expect_refused(kSolve + "--method rk4 --step-size 0.1 --max-steps 5",
                 {"would take 100 steps", "max_num_steps = 5"});
  expect_refused(kSolve + "--method rk4 --step-size 0.1 --t1 1e300", {"would take 1e+301 steps"});
}

TEST(CliSolveBadInput, AnIntervalOf1e300EndsWithAStepSizeUnderflow) {
  expect_refused(kSolve + "--t1 1e300 --format json",
                 {"step size underflow", "16*eps*|t1 - t0|", "shorten the interval"});
  expect_refused(kSolve + "--t1 1e300 --saveat 3", {"step size underflow"});
}

TEST(CliSolveBadInput, HittingMaxStepsNamesTheFlag) {
  expect_refused(kSolve + "--max-steps 5 --format json",
                 {"max_num_steps = 5 reached at t = ", "h = ", "--max-steps"});
}

// ---- Flags out of range, NaN/Inf, words not in the list ----

TEST(CliSolveBadInput, NumericFlagsOutOfRangeNameTheFlagAndTheRange) {
  expect_refused(kSolve + "--saveat 0", {"--saveat: must be an integer in [1, 1000000], got 0"});
  expect_refused(kSolve + "--saveat 1000000000", {"--saveat: must be an integer in [1, 1000000]"});
  expect_refused(kSolve + "--max-steps 0", {"--max-steps: must be an integer >= 1, got 0"});
  expect_refused(kSolve + "--max-steps 1e3", {"--max-steps: must be an integer >= 1"});
  expect_refused(kSolve + "--step-size -1", {"--step-size: must be a finite number >= 0"});
  expect_refused(kSolve + "--step-size inf", {"--step-size: must be a finite number >= 0"});
  expect_refused(kSolve + "--first-step nan", {"--first-step: must be a finite number >= 0"});
  expect_refused(kSolve + "--t0 nan", {"--t0: must be a finite number"});
  expect_refused(kSolve + "--t1 inf", {"--t1: must be a finite number"});
  expect_refused(kSolve + "--rtol nan", {"--rtol: must be a finite number > 0, got nan"});
  expect_refused(kSolve + "--atol -1", {"--atol: must be a finite number > 0, got -1"});
  // No 300-digit ranges anywhere.
  const CliRun run = run_cli(kSolve + "--saveat -5");
  EXPECT_FALSE(contains(run.err, "179769313486")) << run.err;
}

TEST(CliSolveBadInput, WordFlagsListTheAcceptedWords) {
  expect_refused(kSolve + "--format xml", {"--format: must be one of csv, json; got 'xml'"});
  expect_refused(kSolve + "--controller p",
                 {"--controller: unknown step-size controller 'p'; accepted: i, pi, pid"});
  expect_refused(kSolve + "--method rk45", {"unknown method 'rk45'", "dopri5", "tsit5"});
  expect_refused("solve --problem lorenz", {"unknown problem 'lorenz'", "arenstorf"});
}

// ---- Inconsistent combinations ----

TEST(CliSolveBadInput, AnEmptyOrOverflowingIntervalIsRefusedNamingT0AndT1) {
  expect_refused(kSolve + "--t1 0", {"--t0 = 0 (default) and --t1 = 0 are equal"});
  expect_refused(kSolve + "--t0 -1e308 --t1 1e308",
                 {"--t0 = -1e+308 and --t1 = 1e+308", "t1 - t0 overflows"});
}

TEST(CliSolveBadInput, SaveTimesADoubleCannotTellApartAreRefused) {
  expect_refused(kSolve + "--t0 1 --t1 1.0000000000000004 --saveat 10",
                 {"--saveat 10", "cannot tell apart", "accepted: a smaller --saveat"});
}

TEST(CliSolveBadInput, AFirstStepThatCannotBeUsedIsRefused) {
  expect_refused(kSolve + "--first-step 100", {"first_step = 100 exceeds the interval"});
  expect_refused(kSolve + "--method rk4 --first-step 0.1",
                 {"first_step = 0.1 has no effect on a fixed-step solve"});
  expect_refused(kSolve + "--step-size 0.1 --first-step 0.1", {"has no effect"});
}

// ---- bench solvers, demo, methods ----

const std::string kBench = "bench solvers --json ";

TEST(CliBenchSolversBadInput, EveryNameAndValueIsCheckedBeforeTheFirstSolve) {
  expect_refused(kBench + "--problems vanderpol",
                 {"--problems: 'vanderpol' has no reference solution", "accepted: linear"});
  expect_refused(kBench + "--problems lorenz", {"'lorenz' is not a built-in problem"});
  expect_refused(kBench + "--problems harmonic --methods rk45",
                 {"--methods: 'rk45' is not a registered method", "dopri5"});
  expect_refused(kBench + "--problems harmonic --methods dopri5 --tolerances 0",
                 {"--tolerances: must be a finite number > 0"});
  expect_refused(kBench + "--problems harmonic --methods dopri5 --tolerances 1e-3,nan",
                 {"--tolerances: must be a finite number > 0"});
  // The first tolerance is fine: nothing may be printed before the bad second one is found.
  expect_refused(kBench + "--problems harmonic --methods dopri5 --tolerances 1e-3,1e-300",
                 {"--tolerances: 1e-300", "unit roundoff"});
}

TEST(CliBenchSolversBadInput, AFailedPointFailsTheRunAfterTheWholeTable) {
  // dopri5 needs more than 5 steps at every tolerance: each point fails, every one is printed,
  // and the run does not exit 0 over a table of holes.
  const CliRun run =
      run_cli(kBench + "--problems harmonic --methods dopri5 --tolerances 1e-3,1e-4 --max-steps 5");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(neuralode::test_support::lines_of(run.out).size(), 2u) << run.out;
  EXPECT_TRUE(contains(run.out, "\"failure\":\"odeint: max_num_steps = 5 reached")) << run.out;
  EXPECT_TRUE(contains(run.err, "bench solvers: 2 of 2 points failed")) << run.err;
  expect_refused("bench solvers --max-steps 0", {"--max-steps: must be an integer >= 1"});
}

TEST(CliDemoAndMethodsBadInput, UnknownFlagsExitTwo) {
  EXPECT_EQ(run_cli("demo --fast").exit_code, 2);
  EXPECT_EQ(run_cli("methods --json").exit_code, 2);
  EXPECT_EQ(run_cli("methods extra").exit_code, 2);
}

}  // namespace
