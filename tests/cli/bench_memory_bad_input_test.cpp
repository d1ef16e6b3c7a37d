// Issue 21, bad input to `neuralode bench memory`: sizes whose buffers cannot fit are refused
// before anything is allocated with the predicted bytes and the machine's available memory (they
// ended in "internal error: std::bad_alloc"); numeric flags name their range; words list the
// accepted ones; a flag that does not apply to the gradient method is refused.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/run_cli.hpp"

namespace {

using neuralode::test_support::CliRun;
using neuralode::test_support::contains;
using neuralode::test_support::run_cli;

void expect_refused(const std::string& args, const std::string& part) {
  const CliRun r = run_cli(args);
  EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
  EXPECT_TRUE(contains(r.err, part)) << args << "\n" << r.err;
  EXPECT_FALSE(contains(r.err, "internal error")) << args << "\n" << r.err;
  EXPECT_FALSE(contains(r.err, "bad_alloc")) << args << "\n" << r.err;
  EXPECT_FALSE(contains(r.err, "1797693")) << args << "\n" << r.err;
}

// Issue 21: `bench memory --dim 10000000` ended in "internal error: std::bad_alloc".
TEST(CliBenchMemoryBadInput, SizesThatCannotFitAreRefusedWithThePrediction) {
  // Two 10^7 x 10^7 float matrices: 800 TB, far beyond any machine.
  expect_refused("bench memory --dim 10000000", "needs at least 1.4 PiB");
  expect_refused("bench memory --dim 10000000", "this machine has available");
  // Direct backpropagation keeps every step's state: 2^31 steps of 32 x 4096 floats = 1 PiB.
  expect_refused("bench memory --grad direct --steps 2147483647", "needs at least");
  expect_refused("bench memory --batch 2147483648", "needs at least");
}

TEST(CliBenchMemoryBadInput, NumericFlagsNameTheirRange) {
  expect_refused("bench memory --steps 0", "--steps: must be an integer in [1, 2147483647], got 0");
  expect_refused("bench memory --steps 99999999999", "--steps: must be an integer in [1, ");
  expect_refused("bench memory --batch 0", "--batch: must be an integer in [1, 2147483648]");
  expect_refused("bench memory --dim -3", "--dim: must be an integer in [1, 2147483648]");
  expect_refused("bench memory --dim 1e3", "--dim: must be an integer");
  expect_refused("bench memory --grad checkpoint --checkpoint-every 0",
                 "--checkpoint-every: must be an integer in [1, 2147483647], got 0");
}

TEST(CliBenchMemoryBadInput, WordsAndInapplicableFlagsAreNamed) {
  expect_refused("bench memory --grad magic",
                 "--grad: unknown gradient method 'magic'; accepted: direct, adjoint");
  expect_refused("bench memory --method rk45", "--method:");
  expect_refused("bench memory --grad adjoint --checkpoint-every 4",
                 "--checkpoint-every applies to --grad checkpoint only, not to --grad adjoint");
}

// The prediction is a lower bound of what the benchmark really uses, so it refuses only what
// cannot fit: for each gradient method it stays below the measured peak RSS.
TEST(CliBenchMemoryBadInput, PredictionStaysBelowTheMeasuredPeak) {
  for (const char* grad : {"direct", "adjoint", "checkpoint", "binomial"}) {
    const CliRun r = run_cli(std::string("bench memory --grad ") + grad +
                             " --steps 8 --batch 8 --dim 512 --json");
    ASSERT_EQ(r.exit_code, 0) << grad << "\n" << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_GT(j["predicted_min_bytes"].get<double>(), 0) << grad;
    EXPECT_LE(j["predicted_min_bytes"].get<double>(), j["peak_rss_bytes"].get<double>()) << grad;
  }
}

}  // namespace
