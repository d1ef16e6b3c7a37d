// Issue 13: every command that solves declares its solver and gradient flags through one function
// (src/cli/solver_flags.hpp), so every command offers every option under the same name, and a bad
// value is refused with the same message by each of them.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "cli/solver_flags.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

namespace {

using neuralode::test_support::CliRun;
using neuralode::test_support::contains;
using neuralode::test_support::run_cli;
using neuralode::test_support::TempDir;

struct Command {
  std::string args;  // the command, with whatever it requires to parse
  // The shared flags it does not offer, because they cannot apply: bench memory steps a fixed
  // grid (only --method of the solver's), bench solvers has lists of methods and tolerances and
  // measures adaptive steps, solve differentiates nothing.
  std::set<std::string> not_offered;
  bool offers(const std::string& flag) const { return !not_offered.contains(flag); }
};

std::set<std::string> grad_flags() {
  return {std::begin(neuralode::cli::kGradFlagNames), std::end(neuralode::cli::kGradFlagNames)};
}

std::vector<Command> commands(const TempDir& dir) {
  const std::string out = " --out '" + (dir / "never").string() + "'";
  std::set<std::string> solvers = grad_flags();
  const std::set<std::string> memory = {
      "--rtol",       "--atol",    "--step-size", "--first-step", "--max-steps",
      "--controller", "--pi-beta", "--pcoeff",    "--icoeff",     "--dcoeff",
      "--safety",     "--ifactor", "--dfactor"};
  solvers.insert({"--method", "--rtol", "--atol", "--step-size"});
  return {{"solve --problem harmonic", grad_flags()},
          {"train spiral" + out, {}},
          {"bench spiral", {}},
          {"train odenet" + out, {}},
          {"bench odenet", {}},
          {"bench memory", memory},
          {"bench solvers --problems harmonic --methods dopri5 --tolerances 1e-3", solvers}};
}

TEST(CliSolverFlags, EveryCommandOffersEverySolverAndGradientFlag) {
  TempDir dir{"cli_solver_flags"};
  for (const Command& c : commands(dir)) {
    const CliRun run = run_cli(c.args + " --help");
    ASSERT_EQ(run.exit_code, 0) << c.args << "\n" << run.err;
    std::vector<std::string> flags(std::begin(neuralode::cli::kSolveFlagNames),
                                   std::end(neuralode::cli::kSolveFlagNames));
    flags.insert(flags.end(), std::begin(neuralode::cli::kGradFlagNames),
                 std::end(neuralode::cli::kGradFlagNames));
    for (const std::string& flag : flags)
      EXPECT_EQ(contains(run.out, flag + " "), c.offers(flag)) << c.args << ": " << flag;
  }
}

struct BadValue {
  const char* args;  // "--flag value"
  const char* message;
};

TEST(CliSolverFlags, ABadValueIsRefusedWithTheSameMessageByEveryCommand) {
  const std::vector<BadValue> cases = {
      {"--method magic", "neuralode: --method: unknown method 'magic'; accepted: euler,"},
      {"--rtol 0", "neuralode: --rtol: must be a finite number > 0, got 0"},
      {"--atol nan", "neuralode: --atol: must be a finite number > 0, got nan"},
      {"--step-size -1", "neuralode: --step-size: must be a finite number >= 0"},
      {"--first-step inf", "neuralode: --first-step: must be a finite number >= 0"},
      {"--max-steps 0", "neuralode: --max-steps: must be an integer >= 1, got 0"},
      {"--controller p",
       "neuralode: --controller: unknown step-size controller 'p'; accepted: i, pi, pid"},
      {"--pi-beta nan", "neuralode: --pi-beta: must be a finite number, got nan"},
      {"--pcoeff inf", "neuralode: --pcoeff: must be a finite number, got inf"},
      {"--icoeff 0", "neuralode: --icoeff: must be a finite number > 0, got 0"},
      {"--dcoeff x", "neuralode: --dcoeff: must be a finite number, got 'x'"},
      {"--safety -1", "neuralode: --safety: must be a finite number > 0, got -1"},
      {"--ifactor 0", "neuralode: --ifactor: must be a finite number > 0, got 0"},
      {"--dfactor nan", "neuralode: --dfactor: must be a finite number > 0, got nan"},
      {"--grad magic", "neuralode: --grad: unknown gradient method 'magic'; accepted: direct,"},
      {"--adjoint-method magic", "neuralode: --adjoint-method: unknown method 'magic'"},
      {"--adjoint-rtol -1", "neuralode: --adjoint-rtol: must be a finite number >= 0"},
      {"--adjoint-atol nan", "neuralode: --adjoint-atol: must be a finite number >= 0"},
      {"--adjoint-norm half",
       "neuralode: --adjoint-norm: unknown adjoint norm 'half'; accepted: full, seminorm"},
      {"--checkpoint-every 0",
       "neuralode: --checkpoint-every: must be an integer in [1, 2147483647], got 0"},
      {"--binomial-snapshots -1",
       "neuralode: --binomial-snapshots: must be an integer in [0, 2147483647], got -1"},
  };
  TempDir dir{"cli_solver_flags"};
  for (const Command& c : commands(dir))
    for (const BadValue& b : cases) {
      const std::string flag = std::string(b.args).substr(0, std::string(b.args).find(' '));
      if (!c.offers(flag)) continue;
      const CliRun run = run_cli(c.args + " " + b.args);
      EXPECT_EQ(run.exit_code, 2) << c.args << " " << b.args << "\n" << run.err;
      EXPECT_TRUE(contains(run.err, b.message)) << c.args << " " << b.args << "\n" << run.err;
    }
  EXPECT_FALSE(std::filesystem::exists(dir / "never"));
}

// Every flag at once, with values the solver accepts: the commands run with them (the values reach
// SolveOptions and GradOptions and pass their validate()).
TEST(CliSolverFlags, EveryFlagIsAcceptedAndReachesTheSolve) {
  const std::string solver =
      " --method dopri5 --rtol 1e-6 --atol 1e-8 --step-size 0 --first-step 0 --max-steps 5000"
      " --controller pid --pi-beta 0.04 --pcoeff 0.1 --icoeff 0.9 --dcoeff 0.05 --safety 0.85"
      " --ifactor 5 --dfactor 0.25";
  const CliRun solve = run_cli("solve --problem harmonic --format json" + solver);
  EXPECT_EQ(solve.exit_code, 0) << solve.err;
  EXPECT_TRUE(contains(solve.out, "\"rtol\":1e-06")) << solve.out;
  const CliRun spiral = run_cli(
      "bench spiral --iters 3 --warmup 1 --json --grad adjoint --adjoint-method bosh3"
      " --adjoint-rtol 1e-5 --adjoint-atol 1e-7 --adjoint-norm seminorm --checkpoint-every 4"
      " --binomial-snapshots 0" +
      solver);
  EXPECT_EQ(spiral.exit_code, 0) << spiral.err;
  EXPECT_TRUE(contains(spiral.out, "\"grad\":\"adjoint\"")) << spiral.out;
}

}  // namespace
