// `train odenet` end to end on a tiny synthetic MNIST-style dataset: what it writes, that it
// learns, that --stop-after + --resume continues the same run, the learning-rate milestones, the
// comparison table and the benchmark.
#include "neuralode/apps/odenet.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "neuralode/error.hpp"
#include "support/stripe_images.hpp"

namespace neuralode::apps {
namespace {

using neuralode::test_support::write_stripe_split;

namespace fs = std::filesystem;

// Removes a directory when the test process exits.
struct RemoveAtExit {
  fs::path dir;
  ~RemoveAtExit() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

fs::path dataset() {
  static const RemoveAtExit dir{[] {
    // Per process: ctest runs tests of this file in parallel processes.
    const fs::path d =
        fs::temp_directory_path() / ("neuralode-odenet-test-data-" + std::to_string(getpid()));
    fs::create_directories(d);
    write_stripe_split(d, "train", 96);
    write_stripe_split(d, "t10k", 40);
    return d;
  }()};
  return dir.dir;
}

OdeNetOptions tiny_run(const std::string& model, const std::string& name) {
  OdeNetOptions o;
  o.model = model;
  o.data = dataset().string();
  o.epochs = 3;
  o.batch_size = 16;
  o.lr = 0.05;
  o.quiet = true;
  o.out = fs::temp_directory_path() /
          ("neuralode-odenet-test-" + model + "-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(o.out);
  return o;
}

std::vector<nlohmann::json> read_lines(const fs::path& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(OdeNetTraining, WritesItsFilesAndLearnsTheEasySplit) {
  OdeNetOptions o = tiny_run("odenet", "files");
  // The first of 8 epochs' learning-rate drops comes after 3 epochs (18 steps): stopping there
  // trains at the full rate throughout.
  o.epochs = 8;
  o.stop_after = 3;
  // Without crops: a 12x12 image padded by 4 and cropped back is mostly shifted padding, and
  // with them three epochs only learned that two of the ten classes occur (test loss near ln 2,
  // accuracy flipping between 0.5 and 1.0 with the last bits of the solver's arithmetic).
  // Without them the train loss falls 1.78 -> 0.29 and the test accuracy is 1.0 from epoch 1.
  o.augment = false;
  std::ostringstream log;
  const OdeNetResult r = train_odenet(o, log);
  for (const char* f : {"config.json", "metrics.jsonl", "checkpoint.safetensors", "training.png"})
    EXPECT_TRUE(fs::exists(o.out / f)) << f;
  const auto lines = read_lines(o.out / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  for (const char* key : {"epoch", "iteration", "train_loss", "test_accuracy", "test_error",
                          "nfe_forward", "nfe_backward", "seconds", "peak_rss_bytes", "lr"})
    EXPECT_TRUE(lines.back().contains(key)) << key;
  EXPECT_EQ(lines.back()["iteration"].get<int>(), 3 * 6);  // 96 images / 16 per batch
  // The split is separable by the first convolution: chance is 50 %, three epochs reach ~100 %.
  EXPECT_GE(r.epochs.back().test_accuracy, 0.9);
  EXPECT_LT(r.epochs.back().train_loss, r.epochs.front().train_loss);
  EXPECT_GT(r.epochs.back().nfe_forward, 2);  // dopri5 took at least one step per solve
  EXPECT_GT(r.epochs.back().nfe_backward, 0);
  EXPECT_EQ(r.num_params, 208266);  // the count does not depend on the image size
}

// Parameters, momentum, schedule position and data order all come back, and no sum depends on
// buffer addresses (nn/detail/fixed_order_sum.hpp), so the resumed run equals the straight one
// bit for bit -- also through the adaptive ODE block, where a last-bit difference would change
// the step sizes.
class OdeNetResume : public testing::TestWithParam<const char*> {};

TEST_P(OdeNetResume, StopAfterThenResumeContinuesTheSameRunExactly) {
  OdeNetOptions straight = tiny_run(GetParam(), "straight");
  train_odenet(straight, std::cout);
  OdeNetOptions split = tiny_run(GetParam(), "split");
  split.stop_after = 1;
  EXPECT_EQ(train_odenet(split, std::cout).epochs.size(), 1u);
  split.stop_after = 0;
  split.resume = true;
  EXPECT_EQ(train_odenet(split, std::cout).epochs.size(), 2u);
  const auto a = read_lines(straight.out / "metrics.jsonl");
  const auto b = read_lines(split.out / "metrics.jsonl");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["train_loss"].get<double>(), b[i]["train_loss"].get<double>()) << i;
    EXPECT_EQ(a[i]["test_loss"].get<double>(), b[i]["test_loss"].get<double>()) << i;
    EXPECT_EQ(a[i]["lr"].get<double>(), b[i]["lr"].get<double>()) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, OdeNetResume, testing::Values("odenet", "resnet"));

TEST(OdeNetTraining, LearningRateMilestonesScaleTheOriginalSchedule) {
  OdeNetOptions o;
  o.epochs = 160;  // the original: epochs 60, 100, 140
  EXPECT_EQ(o.lr_milestones(1), (std::vector<std::int64_t>{60, 100, 140}));
  o.epochs = 8;  // 3, 5, 7 epochs of 10 batches
  EXPECT_EQ(o.lr_milestones(10), (std::vector<std::int64_t>{30, 50, 70}));
}

TEST(OdeNetTraining, TableListsEveryRunAndNamesAMissingOne) {
  OdeNetOptions o = tiny_run("resnet", "table");
  o.epochs = 1;
  train_odenet(o, std::cout);
  const std::string table = odenet_table({o.out});
  EXPECT_NE(table.find("| test error |"), std::string::npos) << table;
  EXPECT_NE(table.find("| resnet | direct | 1 |"), std::string::npos) << table;
  EXPECT_NE(table.find("576778"), std::string::npos) << table;
  try {
    odenet_table({fs::temp_directory_path() / "neuralode-no-such-run"});
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
}

TEST(OdeNetTraining, BadOptionsAreNamed) {
  auto message = [](OdeNetOptions o) {
    try {
      o.validate();
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  OdeNetOptions o;
  o.model = "vgg";
  EXPECT_NE(message(o).find("odenet, rknet, resnet"), std::string::npos);
  o = {};
  o.epochs = 0;
  EXPECT_NE(message(o).find("--epochs"), std::string::npos);
  o = {};
  o.solve.method = "rk45";
  EXPECT_NE(message(o).find("rk45"), std::string::npos);
  o = {};
  o.data = "/nonexistent-neuralode-data";
  o.out = fs::temp_directory_path() / "neuralode-odenet-test-nodata";
  EXPECT_THROW(train_odenet(o, std::cout), Error);
}

TEST(OdeNetBench, TimesIterationsOnTheGivenData) {
  OdeNetBenchOptions b;
  b.run = tiny_run("odenet", "bench");
  b.iters = 2;
  const OdeNetBenchResult r = bench_odenet(b);
  EXPECT_EQ(r.grad, "adjoint");
  EXPECT_EQ(r.iters, 2);
  EXPECT_GT(r.seconds_per_iter, 0);
  EXPECT_GT(r.nfe_forward, 0);
  EXPECT_GT(r.nfe_backward, 0);
  EXPECT_GT(r.peak_rss_bytes, 0u);
  EXPECT_EQ(r.data, dataset().string());
}

// The benchmark takes the trainer's own step, so a diverging run stops with the trainer's finite
// checks instead of timing NaN arithmetic. ResNet (no solve to fail first) with an SGD rate of
// 1e37: after one step the float parameters are ~1e35 and the next forward overflows.
TEST(BenchOdeNet, StopsWhenTrainingDiverges) {
  OdeNetBenchOptions b;
  b.run = tiny_run("resnet", "bench-diverges");
  b.run.lr = 1e37;
  b.iters = 3;
  b.warmup = 0;
  try {
    bench_odenet(b);
    ADD_FAILURE() << "bench_odenet did not stop";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("training diverged: "), std::string::npos) << m;
    EXPECT_NE(m.find("the timing would be of NaN arithmetic: lower --lr"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace neuralode::apps
