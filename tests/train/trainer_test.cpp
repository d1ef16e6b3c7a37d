// train::Trainer (issue 13) on a model whose answers are known in closed form: the quadratic
// L(theta) = 0.5 |theta - c|^2, gradient theta - c, so plain SGD with step lr contracts the error
// by (1 - lr) per step exactly. Checked: the loop takes exactly those steps, reports and
// checkpoints at the program's periods, the all-reduce hook sees every gradient before it is
// applied, divergence stops the run before the step, and a resume from a checkpoint continues the
// uninterrupted run bit for bit.
#include "neuralode/train/trainer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace neuralode::train {
namespace {

using test_support::TempDir;

struct NoBatch {};

// L = 0.5 |theta - c|^2 with c = (1, -2, 0.5); `poison` makes the gradient NaN from a step on.
class Quadratic final : public models::Model<double, NoBatch> {
 public:
  Quadratic() : theta_{0, 0, 0}, views_{{.name = "theta", .shape = {3}, .offset = 0}} {}
  std::span<double> params() override { return theta_; }
  const std::vector<nn::ParamView>& param_views() const override { return views_; }
  models::BatchLoss loss_and_gradient(const NoBatch&, std::span<double> grad) override {
    ++calls;
    double loss = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      const double e = theta_[i] - kTarget[i];
      loss += 0.5 * e * e;
      grad[i] = calls >= poison_from ? std::numeric_limits<double>::quiet_NaN() : e;
    }
    return {.loss = loss, .samples = 1};
  }
  models::NfeReport last_nfe() const override { return {.forward = 2, .backward = 3}; }

  static constexpr double kTarget[3] = {1, -2, 0.5};
  int calls = 0;
  int poison_from = 1 << 30;

 private:
  std::vector<double> theta_;
  std::vector<nn::ParamView> views_;
};

class Program final : public TrainingProgram<double, NoBatch> {
 public:
  explicit Program(int period) : period_(period) {}
  void next_batch(std::int64_t it, NoBatch&) override { batches.push_back(it); }
  void after_step(std::int64_t, const models::BatchLoss& loss, const models::NfeReport&,
                  double) override {
    last_loss = loss.loss;
  }
  bool report_due(std::int64_t it) const override { return it % period_ == 0; }
  void report(std::int64_t it, MetricsRecord& rec) override {
    rec.add("iteration", it).add("loss", last_loss);
  }
  [[noreturn]] void step_failed(std::int64_t, const Error&) override { throw; }
  [[noreturn]] void diverged(std::int64_t it, Divergence what, const models::BatchLoss&) override {
    throw SolveError("diverged at " + std::to_string(it) + " in " +
                     (what == Divergence::gradient ? "gradient" : "other"));
  }
  std::string where(std::int64_t it, bool) const override {
    return "test: iteration " + std::to_string(it);
  }
  std::vector<std::int64_t> batches;
  double last_loss = 0;

 private:
  int period_;
};

TrainerOptions options(const TempDir& dir, std::int64_t iterations) {
  return {.checkpoint = dir / "checkpoint.safetensors",
          .metrics = dir / "metrics.jsonl",
          .iterations = iterations,
          .config = "{}",
          .quiet = true};
}

std::vector<nlohmann::json> lines(const std::filesystem::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  for (std::string l; std::getline(in, l);) out.push_back(nlohmann::json::parse(l));
  return out;
}

TEST(Trainer, TakesEveryStepAndReportsAndCheckpointsAtThePeriods) {
  TempDir dir{"trainer"};
  Quadratic model;
  Sgd<double> sgd({.lr = 0.25});
  std::ostringstream log;
  Trainer<double, NoBatch> trainer(options(dir, 12), model, sgd, log);
  Program program(4);
  const TrainerStats stats = trainer.run(program, 0);
  EXPECT_EQ(stats.steps, 12);
  EXPECT_EQ(stats.last_iteration, 12);
  EXPECT_EQ(stats.nfe_forward, 24);
  EXPECT_EQ(stats.nfe_backward, 36);
  EXPECT_EQ(program.batches.size(), 12u);
  // theta_k - c = (1 - lr)^k (theta_0 - c): with lr = 1/4 every product is exact in binary, so
  // the comparison is to the bit.
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(model.params()[i], Quadratic::kTarget[i] * (1 - std::pow(0.75, 12))) << i;
  const auto metrics = lines(dir / "metrics.jsonl");
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_EQ(metrics[2]["iteration"], 12);
  EXPECT_EQ(trainer.last_checkpoint(), 12);
  EXPECT_EQ(get_iteration(read_checkpoint(dir / "checkpoint.safetensors")), 12);
}

// Issue 19's place: a hook that doubles the gradient (two ranks with the same shard, summed) takes
// exactly the steps of lr doubled; multiplying by 2 is exact, so the parameters agree to the bit.
TEST(Trainer, AllReduceSeesEveryGradientBeforeItIsApplied) {
  TempDir a{"trainer_a"}, b{"trainer_b"};
  Quadratic summed, doubled_lr;
  Sgd<double> sgd_a({.lr = 0.125}), sgd_b({.lr = 0.25});
  std::ostringstream log;
  Trainer<double, NoBatch> ta(options(a, 8), summed, sgd_a, log);
  int reduced = 0;
  ta.all_reduce = [&](std::span<double> g) {
    ++reduced;
    for (double& x : g) x *= 2;
  };
  Trainer<double, NoBatch> tb(options(b, 8), doubled_lr, sgd_b, log);
  Program pa(4), pb(4);
  ta.run(pa, 0);
  tb.run(pb, 0);
  EXPECT_EQ(reduced, 8);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(summed.params()[i], doubled_lr.params()[i]);
}

TEST(Trainer, ANonFiniteGradientStopsTheRunBeforeTheStep) {
  TempDir dir{"trainer"};
  Quadratic model;
  model.poison_from = 6;
  Sgd<double> sgd({.lr = 0.25});
  std::ostringstream log;
  Trainer<double, NoBatch> trainer(options(dir, 12), model, sgd, log);
  Program program(4);
  try {
    trainer.run(program, 0);
    FAIL() << "no divergence";
  } catch (const SolveError& e) {
    EXPECT_EQ(std::string(e.what()), "diverged at 6 in gradient");
  }
  // Five steps were applied, the sixth was not; the checkpoint of iteration 4 is the last.
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(model.params()[i], Quadratic::kTarget[i] * (1 - std::pow(0.75, 5))) << i;
  EXPECT_EQ(trainer.last_checkpoint(), 4);
}

TEST(Trainer, AResumeFromACheckpointContinuesTheUninterruptedRunExactly) {
  TempDir straight_dir{"trainer_s"}, split_dir{"trainer_p"};
  std::ostringstream log;
  Quadratic straight;
  Sgd<double> sgd_s({.lr = 0.3, .momentum = 0.5});
  Trainer<double, NoBatch> ts(options(straight_dir, 10), straight, sgd_s, log);
  Program ps(5);
  ts.run(ps, 0);

  {  // the first half, then a fresh model, optimizer and trainer resuming from its checkpoint
    Quadratic first;
    Sgd<double> sgd({.lr = 0.3, .momentum = 0.5});
    TrainerOptions o = options(split_dir, 10);
    o.last_iteration = 5;
    Trainer<double, NoBatch> t(o, first, sgd, log);
    Program p(5);
    t.run(p, 0);
  }
  const Checkpoint ck = read_checkpoint(split_dir / "checkpoint.safetensors");
  Quadratic resumed;
  Sgd<double> sgd({.lr = 0.3, .momentum = 0.5});
  get_params<double>(ck, resumed.param_views(), resumed.params());
  sgd.load_state(get_optimizer_state<double>(ck));
  TrainerOptions o = options(split_dir, 10);
  o.resume = true;
  Trainer<double, NoBatch> t(o, resumed, sgd, log);
  Program p(5);
  const TrainerStats stats = t.run(p, get_iteration(ck));
  EXPECT_EQ(stats.steps, 5);
  EXPECT_EQ(p.batches.front(), 6);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(resumed.params()[i], straight.params()[i]);
  EXPECT_EQ(lines(split_dir / "metrics.jsonl"), lines(straight_dir / "metrics.jsonl"));
}

}  // namespace
}  // namespace neuralode::train
