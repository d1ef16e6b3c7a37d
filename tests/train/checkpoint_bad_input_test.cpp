// Checkpoint and metrics-log readers given malformed files (issue 21): each problem is an
// IoError naming the file and what is wrong, never a bare "stoi" or a silent NaN, and nothing on
// disk is changed by a refused read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "neuralode/train/metrics_log.hpp"
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

Checkpoint with_metadata(std::map<std::string, std::string> metadata) {
  Checkpoint c;
  c.source = "/runs/a/checkpoint.safetensors";
  c.metadata = std::move(metadata);
  return c;
}

TEST(CheckpointBadInput, ReadingADirectorySaysItIsOne) {
  TempDir dir{"ckpt_bad"};
  const std::string msg = message_of<IoError>([&] { read_checkpoint(dir.path()); });
  EXPECT_TRUE(contains(msg, "checkpoint '" + dir.path().string() + "': is a directory")) << msg;
}

// Regression (issue 21): non-numeric metadata surfaced as "internal error: stoi".
TEST(CheckpointBadInput, IntegerMetadataIsParsedStrictlyNamingFileKeyAndText) {
  const struct {
    const char* text;
    const char* message_part;
  } cases[] = {
      {"", "metadata 'epoch' = '' is not an integer"},
      {"abc", "metadata 'epoch' = 'abc' is not an integer"},
      {"12abc", "'12abc' is not an integer"},
      {" 12", "' 12' is not an integer"},
      {"1.5", "'1.5' is not an integer"},
      {"99999999999999999999", "(out of the 64-bit range)"},
      {"-1", "metadata 'epoch' = -1 is out of range; accepted: an integer in [0, 100]"},
      {"abc", "'abc' is not an integer; accepted: an integer in [0, 100]"},
      {"101", "= 101 is out of range"},
  };
  for (const auto& c : cases) {
    const Checkpoint ck = with_metadata({{"epoch", c.text}});
    const std::string msg = message_of<IoError>([&] { get_int_metadata(ck, "epoch", 0, 100); });
    EXPECT_TRUE(contains(msg, "checkpoint '/runs/a/checkpoint.safetensors'")) << msg;
    EXPECT_TRUE(contains(msg, c.message_part)) << c.text << ": " << msg;
  }
  EXPECT_EQ(get_int_metadata(with_metadata({{"epoch", "42"}}), "epoch", 0, 100), 42);
  EXPECT_EQ(get_int_metadata(with_metadata({{"n", "-7"}}), "n"), -7);
  const std::string missing =
      message_of<IoError>([&] { get_int_metadata(with_metadata({}), "epoch"); });
  EXPECT_TRUE(contains(missing, "no metadata 'epoch'")) << missing;
  // A corrupt value is quoted shortened, not megabytes long.
  const std::string huge = message_of<IoError>([&] {
    get_int_metadata(with_metadata({{"epoch", std::string(100000, 'x')}}), "epoch");
  });
  EXPECT_LT(huge.size(), 300u);
}

TEST(CheckpointBadInput, NonFiniteParametersAreRefusedNamingTensorAndIndex) {
  const std::vector<nn::ParamView> views = {{"w", {3}, 0}};
  for (const double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()}) {
    Checkpoint f32 = with_metadata({}), f64 = with_metadata({});
    const std::vector<float> vf = {1.f, static_cast<float>(bad), 2.f};
    const std::vector<double> vd = {1.0, 2.0, bad};
    f32.put(Tensor::of<float>("params.w", {3}, std::span<const float>(vf)));
    f64.put(Tensor::of<double>("params.w", {3}, std::span<const double>(vd)));
    std::vector<float> params(3);
    std::string msg =
        message_of<IoError>([&] { get_params<float>(f32, views, std::span<float>(params)); });
    EXPECT_TRUE(contains(msg, "tensor 'params.w' holds ")) << msg;
    EXPECT_TRUE(contains(msg, "at index 1 (of 3)")) << msg;
    EXPECT_TRUE(contains(msg, "/runs/a/checkpoint.safetensors")) << msg;
    msg = message_of<IoError>([&] { get_params<float>(f64, views, std::span<float>(params)); });
    EXPECT_TRUE(contains(msg, "at index 2 (of 3)")) << msg;
  }
}

TEST(CheckpointBadInput, OptimizerMetadataOutOfRangeIsRefused) {
  const struct {
    const char* steps;
    const char* lr;
    const char* message_part;
  } cases[] = {
      {"-2", "0.1", "metadata 'optimizer.num_steps' = -2 is out of range"},
      {"x", "0.1", "'optimizer.num_steps' = 'x' is not an integer"},
      {"3", "inf", "'optimizer.learning_rate' = inf is out of range"},
      {"3", "-0.5", "accepted: a finite number >= 0"},
      {"3", " 0.1", "' 0.1' is not a number"},
      {"3", "0.1x", "'0.1x' is not a number"},
  };
  for (const auto& c : cases) {
    const Checkpoint ck = with_metadata(
        {{kOptimizerKey, "sgd"}, {kOptimizerStepsKey, c.steps}, {kOptimizerLrKey, c.lr}});
    const std::string msg = message_of<IoError>([&] { get_optimizer_state<float>(ck); });
    EXPECT_TRUE(contains(msg, c.message_part)) << msg;
  }
  Checkpoint nan_buffer =
      with_metadata({{kOptimizerKey, "sgd"}, {kOptimizerStepsKey, "3"}, {kOptimizerLrKey, "0.1"}});
  const std::vector<float> v = {0.f, std::numeric_limits<float>::quiet_NaN()};
  nan_buffer.put(Tensor::of<float>("optim.momentum", {2}, std::span<const float>(v)));
  const std::string msg = message_of<IoError>([&] { get_optimizer_state<float>(nan_buffer); });
  EXPECT_TRUE(contains(msg, "tensor 'optim.momentum' holds nan at index 1")) << msg;
}

TEST(CheckpointBadInput, IterationMustBeANonNegativeInteger) {
  const std::string msg = message_of<IoError>([&] {
    get_iteration(with_metadata({{kIterationKey, "-1"}}));
  });
  EXPECT_TRUE(contains(msg, "metadata 'iteration' = -1 is out of range; accepted: an integer >= 0"))
      << msg;
}

TEST(CheckpointBadInput, ResumeConfigComparesEachKeyNamingTheFlagAndBothValues) {
  const ResumeKey keys[] = {{"lr", "--lr"}, {"batch_size", "--batch-size"}, {"dtype", "--dtype"}};
  const Checkpoint ck =
      with_metadata({{kConfigKey, R"({"lr":0.001,"batch_size":20,"dtype":"float32"})"}});
  EXPECT_NO_THROW(require_same_config(
      ck, R"({"lr":0.001,"batch_size":20.0,"dtype":"float32","iters":9})", keys, "spiral"));
  std::string msg = message_of<InvalidArgument>([&] {
    require_same_config(ck, R"({"lr":0.1,"batch_size":20,"dtype":"float32"})", keys, "spiral");
  });
  EXPECT_TRUE(contains(msg,
                       "spiral --resume: --lr = 0.1 differs from the checkpoint's 0.001 "
                       "('/runs/a/checkpoint.safetensors')"))
      << msg;
  EXPECT_TRUE(contains(msg, "pass --lr 0.001, or start a new run in another --out")) << msg;
  msg = message_of<InvalidArgument>([&] {
    require_same_config(ck, R"({"lr":0.001,"batch_size":20,"dtype":"float64"})", keys, "spiral");
  });
  EXPECT_TRUE(contains(msg, "--dtype = float64 differs from the checkpoint's float32")) << msg;

  const struct {
    const char* config;
    const char* message_part;
  } bad[] = {{"not json", "metadata 'config' is not a JSON object: 'not json'"},
             {"[1, 2]", "is not a JSON object"},
             {R"({"lr":0.001})",
              "its configuration has no 'batch_size'; it is not a checkpoint of spiral"}};
  for (const auto& b : bad) {
    msg = message_of<IoError>([&] {
      require_same_config(with_metadata({{kConfigKey, b.config}}), R"({"lr":0.001})", keys,
                          "spiral");
    });
    EXPECT_TRUE(contains(msg, b.message_part)) << msg;
  }
  msg = message_of<IoError>([&] { require_same_config(with_metadata({}), "{}", keys, "spiral"); });
  EXPECT_TRUE(contains(msg, "no metadata 'config'")) << msg;
}

// ---- MetricsLog ---------------------------------------------------------------------------------

// A line in the middle that is not JSON is damage, not a torn write: dropping it while rewriting
// the file would delete data silently.
TEST(MetricsLogBadInput, ADamagedLineInTheMiddleIsRefusedAndTheFileKept) {
  TempDir dir{"ckpt_bad"};
  const std::string text = "{\"iter\":20}\nGARBAGE\n{\"iter\":40}\n";
  write_bytes(dir / "m.jsonl", text);
  const std::string msg = message_of<IoError>([&] {
    MetricsLog log(dir / "m.jsonl",
                   {.append = true, .drop_after_iteration = 20, .iteration_key = "iter"});
  });
  EXPECT_TRUE(contains(msg, (dir / "m.jsonl").string())) << msg;
  EXPECT_TRUE(contains(msg, "line 2 is not a JSON object ('GARBAGE')")) << msg;
  EXPECT_EQ(read_file(dir / "m.jsonl"), text);
}

// Appending after a torn last line (a crash mid-write) would glue the next record onto it.
TEST(MetricsLogBadInput, AppendingDropsATornLastLineFirst) {
  TempDir dir{"ckpt_bad"};
  write_bytes(dir / "m.jsonl", "{\"iteration\":1}\n{\"itera");
  {
    MetricsLog log(dir / "m.jsonl", {.append = true});
    log.write(MetricsRecord().add("iteration", 2));
  }
  EXPECT_EQ(read_file(dir / "m.jsonl"), "{\"iteration\":1}\n{\"iteration\":2}\n");
}

// Regression (issue 21, found by fuzz/metrics_log_fuzz.cpp): an iteration above INT64_MAX is read
// by JSON as unsigned and was wrapped negative, so a line past the checkpoint survived a resume.
// Whatever form the number takes (unsigned, signed, floating), a line past the checkpoint goes.
TEST(MetricsLogBadInput, ResumeDropsLinesPastTheCheckpointWhateverTheirNumberForm) {
  TempDir dir{"ckpt_bad"};
  write_bytes(dir / "m.jsonl",
              "{\"iteration\":3}\n{\"iteration\":18446744073709551615}\n{\"iteration\":6.5}\n"
              "{\"iteration\":-1}\n{\"iteration\":5}\n");
  { MetricsLog log(dir / "m.jsonl", {.append = true, .drop_after_iteration = 5}); }
  EXPECT_EQ(read_file(dir / "m.jsonl"),
            "{\"iteration\":3}\n{\"iteration\":-1}\n{\"iteration\":5}\n");
}

}  // namespace
}  // namespace neuralode::train
