// Learning-rate schedules against hand values from PyTorch's closed forms, and against PyTorch's
// recursive (chainable) CosineAnnealingLR update over several periods.
#include "neuralode/train/lr_schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "neuralode/error.hpp"

namespace neuralode::train {
namespace {

// Closed forms evaluate a pow or a cos once: a few ulps of the base rate.
constexpr double kTol = 1e-15;

TEST(StepLr, DecaysByGammaEveryStepSizeEpochs) {
  // PyTorch's docstring example: lr = 0.05 for epochs 0..29, 0.005 for 30..59, 0.0005 for 60..89.
  StepLr s(0.05, {.step_size = 30});
  EXPECT_EQ(s.lr_at(0), 0.05);
  EXPECT_EQ(s.lr_at(29), 0.05);
  EXPECT_NEAR(s.lr_at(30), 0.005, kTol);
  EXPECT_NEAR(s.lr_at(59), 0.005, kTol);
  EXPECT_NEAR(s.lr_at(60), 0.0005, kTol);
  EXPECT_NEAR(s.lr_at(89), 0.0005, kTol);
  StepLr half(1.0, {.step_size = 2, .gamma = 0.5});
  EXPECT_EQ(half.lr_at(1), 1.0);
  EXPECT_EQ(half.lr_at(2), 0.5);
  EXPECT_EQ(half.lr_at(7), 0.125);  // floor(7 / 2) = 3 decays
}

TEST(MultiStepLr, DecaysByGammaAtEachMilestone) {
  // PyTorch's docstring example: milestones [30, 80]: 0.05 until 29, 0.005 until 79, 0.0005 after.
  MultiStepLr s(0.05, {.milestones = {80, 30}});  // any order
  EXPECT_EQ(s.lr_at(0), 0.05);
  EXPECT_EQ(s.lr_at(29), 0.05);
  EXPECT_NEAR(s.lr_at(30), 0.005, kTol);
  EXPECT_NEAR(s.lr_at(79), 0.005, kTol);
  EXPECT_NEAR(s.lr_at(80), 0.0005, kTol);
  EXPECT_NEAR(s.lr_at(1000), 0.0005, kTol);
}

TEST(MultiStepLr, ARepeatedMilestoneDecaysTwice) {
  // PyTorch keeps milestones in a Counter: [3, 3] multiplies by gamma^2 at epoch 3.
  MultiStepLr s(1.0, {.milestones = {3, 3}, .gamma = 0.5});
  EXPECT_EQ(s.lr_at(2), 1.0);
  EXPECT_EQ(s.lr_at(3), 0.25);
}

TEST(CosineAnnealingLr, FollowsTheHalfCosineFromBaseToEtaMin) {
  // lr = eta_min + (base - eta_min)(1 + cos(pi e / T)) / 2 with base 1, T 12:
  // e = 0 -> 1, e = 4 -> (1 + 1/2)/2 = 0.75, e = 6 -> 0.5, e = 8 -> 0.25, e = 12 -> 0.
  CosineAnnealingLr s(1.0, {.t_max = 12});
  EXPECT_EQ(s.lr_at(0), 1.0);
  EXPECT_NEAR(s.lr_at(4), 0.75, kTol);
  EXPECT_NEAR(s.lr_at(6), 0.5, kTol);
  EXPECT_NEAR(s.lr_at(8), 0.25, kTol);
  EXPECT_NEAR(s.lr_at(12), 0.0, kTol);
  // Past T the cosine rises again: e = 18 is e = 6 of the mirror image, e = 24 is back at base.
  EXPECT_NEAR(s.lr_at(18), 0.5, kTol);
  EXPECT_NEAR(s.lr_at(24), 1.0, kTol);
  // eta_min = 0.1: midpoint 0.1 + 0.9 / 2 = 0.55; floor 0.1 at T.
  CosineAnnealingLr floor(1.0, {.t_max = 12, .eta_min = 0.1});
  EXPECT_NEAR(floor.lr_at(6), 0.55, kTol);
  EXPECT_NEAR(floor.lr_at(12), 0.1, kTol);
}

TEST(CosineAnnealingLr, MatchesPyTorchsRecursiveFormOverThreePeriods) {
  // torch's CosineAnnealingLR.get_lr (the form its step() uses), in exact arithmetic equal to the
  // closed form; each recursion step adds a few ulps, so after 3 periods of 10 steps the two agree
  // to 30 * 4 ulps of base ~ 3e-14.
  const double base = 0.3, eta_min = 0.01;
  const int T = 10;
  CosineAnnealingLr s(base, {.t_max = T, .eta_min = eta_min});
  const double pi = std::numbers::pi;
  double lr = base;
  for (int e = 1; e <= 6 * T; ++e) {
    if ((e - 1 - T) % (2 * T) == 0)
      lr = lr + (base - eta_min) * (1 - std::cos(pi / T)) / 2;
    else
      lr = (1 + std::cos(pi * e / T)) / (1 + std::cos(pi * (e - 1) / T)) * (lr - eta_min) + eta_min;
    EXPECT_NEAR(s.lr_at(e), lr, 3e-14) << "epoch " << e;
  }
}

TEST(LrSchedule, RegistryBuildsEachScheduleByName) {
  EXPECT_EQ(lr_schedule_names(), "none, step, multistep, cosine");
  EXPECT_EQ(make_lr_schedule("none", 0.1)->lr_at(1000), 0.1);
  EXPECT_NEAR(make_lr_schedule("step", 1.0, {.step_size = 5})->lr_at(5), 0.1, kTol);
  EXPECT_EQ(
      make_lr_schedule("multistep", 1.0, {.milestones = std::vector<std::int64_t>{2}, .gamma = 0.5})
          ->lr_at(2),
      0.5);
  EXPECT_NEAR(make_lr_schedule("cosine", 1.0, {.t_max = 4})->lr_at(2), 0.5, kTol);
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "(no InvalidArgument thrown)";
}

TEST(LrSchedule, ErrorsNameTheSettingAndTheAcceptedValues) {
  auto has = [](const std::string& msg, const std::string& part) {
    return msg.find(part) != std::string::npos;
  };
  std::string m = error_of([] { make_lr_schedule("linear", 0.1); });
  EXPECT_TRUE(has(m, "'linear'") && has(m, "none, step, multistep, cosine")) << m;
  m = error_of([] { make_lr_schedule("cosine", 0.1); });
  EXPECT_TRUE(has(m, "needs t_max")) << m;
  m = error_of([] { make_lr_schedule("step", 0.1, {.step_size = 3, .t_max = 4}); });
  EXPECT_TRUE(has(m, "no setting 't_max'") && has(m, "step_size, gamma")) << m;
  m = error_of([] { StepLr(0.1, {}); });
  EXPECT_TRUE(has(m, "step_size = 0 must be >= 1")) << m;
  m = error_of([] { MultiStepLr(0.1, {.milestones = {3, -1}}); });
  EXPECT_TRUE(has(m, "milestones[1] = -1")) << m;
  m = error_of([] { CosineAnnealingLr(-0.1, {.t_max = 3}); });
  EXPECT_TRUE(has(m, "base_lr = -0.1")) << m;
  m = error_of([] { CosineAnnealingLr(0.1, {.t_max = 3}).lr_at(-1); });
  EXPECT_TRUE(has(m, "lr_at(-1)")) << m;
}

}  // namespace
}  // namespace neuralode::train
