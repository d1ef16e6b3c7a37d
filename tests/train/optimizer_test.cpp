// Optimizers: PyTorch's trajectories on a tiny quadratic, the documented Adam/AdamW difference,
// state round trips, convergence, no allocation after the first step, and the registry's errors;
// gradient clipping by global norm (clip.hpp) at the end.
//
// Reference trajectories: f(p) = (p0^2 + 3 p1^2) / 2, so g = (p0, 3 p1), from p = (1, -2). The
// SGD rows are worked by hand below; the RMSprop/Adam rows are torch.optim's algorithm pseudo-code
// (torch.optim docs, single-tensor path) typed into plain Python floats (double), e.g. for Adam:
//   m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g
//   p -= (lr/(1-b1**t)) * (m / (sqrt(v)/sqrt(1-b2**t) + eps))
// and printed with %.17g.
#include "neuralode/train/optimizer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/train/clip.hpp"
#include "neuralode/train/lr_schedule.hpp"

#include "support/alloc_counter.hpp"

namespace neuralode::train {
namespace alloc_count = neuralode::testing::alloc_count;
}

namespace neuralode::train {
namespace {

using Trajectory = std::vector<std::vector<double>>;

// Runs `steps` steps on f(p) = (p0^2 + 3 p1^2)/2 from (1, -2) and returns p after each.
template <class S>
Trajectory run_quadratic(Optimizer<S>& opt, int steps) {
  std::vector<S> p{S(1), S(-2)}, g(2);
  Trajectory out;
  for (int k = 0; k < steps; ++k) {
    g[0] = p[0];
    g[1] = S(3) * p[1];
    opt.step(p, g);
    out.push_back({double(p[0]), double(p[1])});
  }
  return out;
}

// Tolerances, relative to max(1, |expected|). Each step is ~10 roundings of relative size eps
// (float 6e-8, double 1.1e-16) and this well-conditioned problem amplifies earlier errors by less
// than 2 per step, so 3 steps stay under 3 * 10 * 2 * eps: 4e-6 (float), 7e-15 (double). Bounds:
template <class S>
double tolerance() {
  return std::is_same_v<S, float> ? 1e-5 : 1e-13;
}

template <class S>
void expect_trajectory(Optimizer<S>& opt, const Trajectory& expected, const std::string& what) {
  const auto got = run_quadratic(opt, static_cast<int>(expected.size()));
  for (std::size_t k = 0; k < expected.size(); ++k)
    for (std::size_t i = 0; i < 2; ++i)
      EXPECT_NEAR(got[k][i], expected[k][i],
                  tolerance<S>() * std::max(1.0, std::abs(expected[k][i])))
          << what << " (" << (std::is_same_v<S, float> ? "float" : "double") << "), step " << k + 1
          << ", p[" << i << "]";
}

template <class S>
void check_all_reference_trajectories() {
  {
    // Plain SGD, lr 0.1: p <- p - 0.1 g, so p0 <- 0.9 p0 and p1 <- 0.7 p1: (0.9^k, -2 * 0.7^k).
    Sgd<S> sgd({.lr = 0.1});
    expect_trajectory<S>(sgd, {{0.9, -1.4}, {0.81, -0.98}, {0.729, -0.686}}, "sgd");
  }
  {
    // Momentum 0.9: b1 = g1 = (1, -6) (PyTorch's first step copies g), p1 = (0.9, -1.4);
    // g2 = (0.9, -4.2), b2 = 0.9 b1 + g2 = (1.8, -9.6), p2 = (0.72, -0.44);
    // g3 = (0.72, -1.32), b3 = (2.34, -9.96), p3 = (0.486, 0.556).
    Sgd<S> sgd({.lr = 0.1, .momentum = 0.9});
    expect_trajectory<S>(sgd, {{0.9, -1.4}, {0.72, -0.44}, {0.486, 0.556}}, "sgd momentum");
  }
  {
    // Nesterov: step with g + 0.9 b. Step 1: b = (1, -6), g' = (1.9, -11.4), p1 = (0.81, -0.86);
    // step 2: g = (0.81, -2.58), b = (1.71, -7.98), g' = (2.349, -9.762), p2 = (0.5751, 0.1162);
    // step 3: g = (0.5751, 0.3486), b = (2.1141, -6.8334), g' = (2.47779, -5.80146),
    // p3 = (0.327321, 0.696346).
    Sgd<S> sgd({.lr = 0.1, .momentum = 0.9, .nesterov = true});
    expect_trajectory<S>(sgd, {{0.81, -0.86}, {0.5751, 0.1162}, {0.327321, 0.696346}},
                         "sgd nesterov");
  }
  {
    // Dampening 0.5 and L2 0.1: g <- g + 0.1 p. Step 1: g = (1.1, -6.2), b = g (undampened on the
    // first step), p1 = (0.89, -1.38); step 2: g = (0.979, -4.278), b = 0.9 b + 0.5 g =
    // (1.4795, -7.719), p2 = (0.74205, -0.6081); step 3 likewise.
    Sgd<S> sgd({.lr = 0.1, .momentum = 0.9, .dampening = 0.5, .weight_decay = 0.1});
    expect_trajectory<S>(
        sgd, {{0.89, -1.38}, {0.74205, -0.6081}, {0.56808225000000001, 0.18086550000000012}},
        "sgd dampening + weight decay");
  }
  {
    // RMSprop defaults (lr 1e-2, alpha 0.99): step 1 is lr * g / (sqrt(0.01 g^2) + eps) =
    // 0.1 sign(g) up to eps, i.e. p1 = (0.9, -1.9); later rows from the Python reference.
    RmsProp<S> rms;
    expect_trajectory<S>(rms,
                         {{0.90000000999999907, -1.9000000016666667},
                          {0.83291797526505928, -1.8309433278740568},
                          {0.77998228198235409, -1.7753494441022075}},
                         "rmsprop");
  }
  {
    // Centered, momentum 0.9, L2 0.1: step 1 divides by sqrt(0.01 g^2 - (0.01 g)^2) =
    // sqrt(0.0099)|g|, so p1 = p0 - 0.01 / sqrt(0.0099) sign(g) = (0.8994962, -1.8994962).
    RmsProp<S> rms({.weight_decay = 0.1, .momentum = 0.9, .centered = true});
    expect_trajectory<S>(rms,
                         {{0.89949622765681447, -1.8994962201032739},
                          {0.74130599065025793, -1.7392987493582337},
                          {0.54965018107514041, -1.5406780169349672}},
                         "rmsprop centered momentum");
  }
  {
    // Adam lr 0.1: step 1 is exactly lr * sign(g) when eps is negligible (m^ = g, v^ = g^2):
    // p1 = (0.9, -1.9).
    Adam<S> adam({.lr = 0.1});
    expect_trajectory<S>(adam,
                         {{0.90000000099999999, -1.9000000001666666},
                          {0.80041222971233816, -1.800166485947237},
                          {0.70158627450441502, -1.7006233917912488}},
                         "adam");
  }
  {
    // Adam with L2 0.1: the decay is part of g, so Adam's normalisation divides it out again and
    // step 1 is still lr * sign(g): p1 = (0.9, -1.9) up to eps.
    Adam<S> adam({.lr = 0.1, .weight_decay = 0.1, .amsgrad = true});
    expect_trajectory<S>(adam,
                         {{0.90000000090909094, -1.9000000001612902},
                          {0.80041222952678448, -1.8001664859363684},
                          {0.70158627422107234, -1.7006233917747833}},
                         "adam l2 amsgrad");
  }
  {
    // AdamW (default decay 1e-2): p is first shrunk by (1 - 0.1 * 0.01) = 0.999, then the Adam
    // step: p1 = 0.999 * (1, -2) - 0.1 sign(g) = (0.899, -1.898).
    AdamW<S> adamw({.lr = 0.1});
    expect_trajectory<S>(adamw,
                         {{0.89900000099999999, -1.8980000001666666},
                          {0.79851902818877873, -1.7962725884763793},
                          {0.69891118471569325, -1.6949445141299015}},
                         "adamw");
  }
  {
    // AdamW decay 0.1: p1 = 0.99 * (1, -2) - 0.1 sign(g) = (0.89, -1.88).
    AdamW<S> adamw({.lr = 0.1, .weight_decay = 0.1, .amsgrad = true});
    expect_trajectory<S>(adamw,
                         {{0.89000000099999999, -1.8800000001666666},
                          {0.78157185695416109, -1.7614089504165513},
                          {0.67510122318920085, -1.6443686833067828}},
                         "adamw amsgrad");
  }
}

TEST(Optimizers, ReproducePyTorchTrajectoriesOnAQuadraticInDouble) {
  check_all_reference_trajectories<double>();
}

TEST(Optimizers, ReproducePyTorchTrajectoriesOnAQuadraticInFloat) {
  check_all_reference_trajectories<float>();
}

TEST(Adam, ConstantGradientMovesExactlyLrPerStep) {
  // With g constant, m_t = (1 - b1^t) g and v_t = (1 - b2^t) g^2, so the bias corrections make
  // m^ = g and v^ = g^2 exactly and every step is lr * g / (|g| + eps), i.e. lr * sign(g) less a
  // relative eps / |g|. Ten steps of lr = 1e-3 from 0 end at -10 lr g / (|g| + eps); rounding in
  // the moments and corrections is a few ulps of each 1e-3 step: < 1e-17 in all, so 1e-16.
  Adam<double> adam;
  std::vector<double> p{0.0, 0.0};
  const std::vector<double> g{2.0, -0.5};
  for (int k = 0; k < 10; ++k) adam.step(p, g);
  EXPECT_NEAR(p[0], -10 * 1e-3 * 2.0 / (2.0 + 1e-8), 1e-16);
  EXPECT_NEAR(p[1], 10 * 1e-3 * 0.5 / (0.5 + 1e-8), 1e-16);
  EXPECT_NEAR(p[1], 1e-2, 10 * 1e-3 * 1e-8 / 0.5 + 1e-16);  // the eps term: 2e-10
}

TEST(Adam, AmsgradUsesTheLargestSecondMomentSeen) {
  // g = 10, then 0.01 twice: v falls after step 1 (v2 = 0.999 * 0.1 + 1e-7 < v1 = 0.1), so AMSGrad
  // divides by the larger sqrt(v1) and steps less. References from the Python pseudo-code
  // (see the file comment) with lr 0.1; tolerance as above (double).
  const std::vector<double> grads{10, 0.01, 0.01};
  const std::vector<double> plain{-0.099999999899999997, -0.167080242562204, -0.21899738380563494};
  const std::vector<double> ams{-0.099999999899999997, -0.16704672760859041, -0.21891200365396751};
  Adam<double> a({.lr = 0.1}), b({.lr = 0.1, .amsgrad = true});
  std::vector<double> pa{0}, pb{0};
  for (std::size_t k = 0; k < grads.size(); ++k) {
    const std::vector<double> g{grads[k]};
    a.step(pa, g);
    b.step(pb, g);
    EXPECT_NEAR(pa[0], plain[k], 1e-13) << "step " << k + 1;
    EXPECT_NEAR(pb[0], ams[k], 1e-13) << "step " << k + 1;
  }
  const auto s = b.state();
  // v1 = (1 - 0.999) * 10^2, kept since; 1 - 0.999 rounds to 1e-3 (1 + 9e-16) in double.
  EXPECT_NEAR(s.buffers.at("max_exp_avg_sq")[0], 0.1, 1e-15);
  EXPECT_LT(s.buffers.at("exp_avg_sq")[0], 0.1);
}

TEST(AdamW, DiffersFromAdamOnlyByTheDecoupledShrink) {
  // Documented difference: AdamW(wd) = p * (1 - lr*wd) followed by Adam(wd = 0)'s update, and the
  // decay never enters the moments. With gradients that do not depend on p, Adam(wd = 0)'s update
  // u_k = q_{k-1} - q_k is therefore AdamW's too: p_k = (1 - lr wd) p_{k-1} - u_k, to rounding
  // (a few ulps of |p| ~ 1: 1e-15), and the moment buffers are bitwise equal.
  const double lr = 0.05, wd = 0.2;
  AdamW<double> adamw({.lr = lr, .weight_decay = wd});
  Adam<double> adam({.lr = lr});
  Adam<double> adam_l2({.lr = lr, .weight_decay = wd});
  std::vector<double> p{1.0, -0.5, 2.0}, q = p, r = p;
  for (int k = 0; k < 5; ++k) {
    const std::vector<double> g{0.3 - 0.1 * k, 1.0 / (k + 1), -2.0 + k};
    const auto p_prev = p, q_prev = q;
    adamw.step(p, g);
    adam.step(q, g);
    adam_l2.step(r, g);
    for (int i = 0; i < 3; ++i) {
      const double u = q_prev[i] - q[i];
      EXPECT_NEAR(p[i], (1 - lr * wd) * p_prev[i] - u, 1e-15) << "step " << k + 1 << ", i " << i;
    }
  }
  EXPECT_EQ(adamw.state().buffers, adam.state().buffers);
  // Adam's L2 decay goes through the moments instead, so it ends elsewhere.
  EXPECT_NE(adam_l2.state().buffers.at("exp_avg"), adam.state().buffers.at("exp_avg"));
  EXPECT_GT(std::abs(r[0] - p[0]), 1e-6);
}

// ---- every registered optimizer -----------------------------------------------------------------

// Settings per registry word that switch on every buffer and reach the bowl's bottom quickly.
OptimizerOptions all_buffers(const std::string& name) {
  if (name == "sgd") return {.lr = 0.05, .momentum = 0.9, .nesterov = true};
  if (name == "rmsprop") return {.lr = 0.02, .momentum = 0.5, .centered = true};
  return {.lr = 0.05, .amsgrad = true};
}

std::vector<std::string> registry_words() {
  return {"sgd", "rmsprop", "adam", "adamw"};
}

TEST(Optimizers, RegistryListsEveryOptimizer) {
  EXPECT_EQ(optimizer_names(), "sgd, rmsprop, adam, adamw");
  for (const auto& name : registry_words()) {
    EXPECT_EQ(make_optimizer<float>(name)->name(), name);
    EXPECT_EQ(make_optimizer<double>(name, all_buffers(name))->name(), name);
  }
}

TEST(Optimizers, RegistryDefaultsArePyTorchs) {
  EXPECT_EQ(make_optimizer<double>("sgd")->learning_rate(), 1e-3);
  EXPECT_EQ(make_optimizer<double>("rmsprop")->learning_rate(), 1e-2);
  EXPECT_EQ(make_optimizer<double>("adam")->learning_rate(), 1e-3);
  EXPECT_EQ(make_optimizer<double>("adamw")->learning_rate(), 1e-3);
  EXPECT_EQ(RmsPropOptions{}.alpha, 0.99);
  EXPECT_EQ(RmsPropOptions{}.eps, 1e-8);
  EXPECT_EQ(AdamOptions{}.beta1, 0.9);
  EXPECT_EQ(AdamOptions{}.beta2, 0.999);
  EXPECT_EQ(AdamOptions{}.eps, 1e-8);
  EXPECT_EQ(AdamOptions{}.weight_decay, 0.0);
  EXPECT_EQ(AdamWOptions{}.weight_decay, 1e-2);
  // AdamW's decay is on when built by name: one step from p = 1 with g = 0 only shrinks p.
  auto adamw = make_optimizer<double>("adamw", {.lr = 0.1});
  std::vector<double> p{1.0};
  const std::vector<double> g{0.0};
  adamw->step(p, g);
  EXPECT_DOUBLE_EQ(p[0], 1 - 0.1 * 1e-2);
}

TEST(Optimizers, ConvergeToTheBottomOfAQuadraticBowl) {
  // f(p) = sum a_i p_i^2 / 2 with curvatures 1..10, from p = 1; a cosine schedule anneals the
  // step so the adaptive methods, whose steps are ~lr whatever |g|, settle instead of hovering
  // at ~lr. Asked: f below 1e-8 of its start (|p| ~ 1e-4), which plain SGD reaches at its rate
  // (1 - lr)^k as well.
  for (const auto& name : registry_words()) {
    auto opt = make_optimizer<double>(name, all_buffers(name));
    const int iterations = 1000;
    CosineAnnealingLr schedule(opt->learning_rate(), {.t_max = iterations});
    std::vector<double> p(10, 1.0), g(10);
    auto f = [&] {
      double s = 0;
      for (int i = 0; i < 10; ++i) s += (i + 1) * p[i] * p[i] / 2;
      return s;
    };
    const double f0 = f();
    for (int k = 0; k < iterations; ++k) {
      for (int i = 0; i < 10; ++i) g[i] = (i + 1) * p[i];
      opt->set_learning_rate(schedule.lr_at(k));
      opt->step(p, g);
    }
    EXPECT_LT(f(), 1e-8 * f0) << name;
  }
}

TEST(Optimizers, StateRoundTripContinuesBitForBit) {
  for (const auto& name : registry_words()) {
    auto a = make_optimizer<float>(name, all_buffers(name));
    std::vector<float> p{0.5f, -1.5f, 2.0f}, g(3);
    auto grad = [&](std::vector<float>& x) {
      for (std::size_t i = 0; i < 3; ++i) g[i] = float(i + 1) * x[i] + 0.1f;
    };
    for (int k = 0; k < 4; ++k) {
      grad(p);
      a->step(p, g);
    }
    auto b = make_optimizer<float>(name, all_buffers(name));
    b->load_state(a->state());
    EXPECT_EQ(b->num_steps(), 4) << name;
    std::vector<float> q = p;
    for (int k = 0; k < 4; ++k) {
      grad(p);
      a->step(p, g);
      grad(q);
      b->step(q, g);
    }
    EXPECT_EQ(p, q) << name;
  }
}

TEST(Optimizers, StepAllocatesNothingAfterTheFirstCall) {
  if (!alloc_count::is_live()) GTEST_SKIP() << "allocation counter not active (sanitizer build?)";
  for (const auto& name : registry_words()) {
    auto opt32 = make_optimizer<float>(name, all_buffers(name));
    auto opt64 = make_optimizer<double>(name, all_buffers(name));
    std::vector<float> p32(1000, 1.0f), g32(1000, 0.5f);
    std::vector<double> p64(1000, 1.0), g64(1000, 0.5);
    opt32->step(p32, g32);
    opt64->step(p64, g64);
    const long n = alloc_count::count([&] {
      for (int k = 0; k < 3; ++k) {
        opt32->step(p32, g32);
        opt64->step(p64, g64);
      }
    });
    EXPECT_EQ(n, 0) << name;
  }
}

// ---- errors -------------------------------------------------------------------------------------

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "(no InvalidArgument thrown)";
}

TEST(Optimizers, UnknownNameListsTheAcceptedOnes) {
  const auto msg = error_of([] { make_optimizer<double>("adagrad"); });
  EXPECT_NE(msg.find("'adagrad'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sgd, rmsprop, adam, adamw"), std::string::npos) << msg;
}

TEST(Optimizers, RejectsAHyperparameterTheOptimizerDoesNotHave) {
  const auto msg = error_of([] { make_optimizer<double>("adam", {.momentum = 0.9}); });
  EXPECT_NE(msg.find("'momentum'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("beta1"), std::string::npos) << msg;  // lists what adam takes
}

TEST(Optimizers, RejectsOutOfRangeOptions) {
  EXPECT_NE(error_of([] { Sgd<double>({.lr = -1}); }).find("lr = -1"), std::string::npos);
  EXPECT_NE(error_of([] { Sgd<double>({.lr = 0.1, .nesterov = true}); }).find("momentum > 0"),
            std::string::npos);
  EXPECT_NE(error_of([] { Adam<float>({.beta2 = 1.0}); }).find("beta2 = 1 must be in [0, 1)"),
            std::string::npos);
  EXPECT_NE(error_of([] { AdamW<float>({.eps = -1e-8}); }).find("AdamWOptions: eps"),
            std::string::npos);
  EXPECT_NE(error_of([] { RmsProp<float>({.alpha = NAN}); }).find("alpha"), std::string::npos);
  Adam<double> adam;
  EXPECT_NE(error_of([&] { adam.set_learning_rate(INFINITY); }).find("lr = inf"),
            std::string::npos);
}

TEST(Optimizers, RejectsAParameterVectorOfAnotherLength) {
  Adam<double> adam;
  std::vector<double> p(3, 1.0), g(3, 1.0), g2(2, 1.0), p4(4, 1.0), g4(4, 1.0);
  EXPECT_NE(error_of([&] { adam.step(p, g2); }).find("grads has 2 entries but params has 3"),
            std::string::npos);
  adam.step(p, g);
  EXPECT_NE(error_of([&] { adam.step(p4, g4); }).find("made for 3"), std::string::npos);
}

TEST(Optimizers, LoadStateRejectsAnotherOptimizersOrOptionsState) {
  Adam<double> adam;
  std::vector<double> p(3, 1.0), g(3, 1.0);
  adam.step(p, g);
  Sgd<double> sgd({.momentum = 0.9});
  EXPECT_NE(error_of([&] { sgd.load_state(adam.state()); }).find("of optimizer 'adam', not 'sgd'"),
            std::string::npos);
  Adam<double> ams({.amsgrad = true});
  EXPECT_NE(
      error_of([&] { ams.load_state(adam.state()); }).find("buffer 'max_exp_avg_sq' is missing"),
      std::string::npos);
  auto s = adam.state();
  s.buffers["momentum_buffer"] = {0, 0, 0};
  EXPECT_NE(error_of([&] { adam.load_state(s); }).find("unknown buffer 'momentum_buffer'"),
            std::string::npos);
  s = adam.state();
  s.buffers["exp_avg"].push_back(0);
  EXPECT_NE(error_of([&] { adam.load_state(s); }).find("has 3 entries but the others 4"),
            std::string::npos);
}

// ---- clip_grad_norm -----------------------------------------------------------------------------

TEST(ClipGradNorm, ScalesToMaxNormByPyTorchsRule) {
  // g = (3, 4, 0): ||g||_2 = 5. max_norm 1: factor 1 / (5 + 1e-6), so g -> (0.6, 0.8, 0) * 5/(5 +
  // 1e-6), whose norm is 1 - 2e-7, never above max_norm. The return value is the norm before.
  std::vector<double> g{3, 4, 0};
  EXPECT_EQ(clip_grad_norm<double>(g, 1.0), 5.0);
  const double c = 1.0 / (5.0 + 1e-6);
  EXPECT_DOUBLE_EQ(g[0], 3 * c);
  EXPECT_DOUBLE_EQ(g[1], 4 * c);
  EXPECT_EQ(g[2], 0.0);
  EXPECT_LE(std::hypot(g[0], g[1]), 1.0);
  EXPECT_NEAR(std::hypot(g[0], g[1]), 1.0, 1e-6 / 5 + 1e-15);
}

TEST(ClipGradNorm, LeavesASmallGradientUnchanged) {
  std::vector<float> g{3, 4};
  EXPECT_NEAR(clip_grad_norm<float>(g, 5.0), 5.0, 1e-6);  // factor 5/(5 + 1e-6) < 1: scaled
  EXPECT_LT(g[1], 4.0f);
  std::vector<float> h{3, 4};
  clip_grad_norm<float>(h, 10.0);  // factor ~2 is clamped to 1
  EXPECT_EQ(h, (std::vector<float>{3, 4}));
}

TEST(ClipGradNorm, OtherNormTypes) {
  std::vector<double> g{3, -4};
  EXPECT_EQ(clip_grad_norm<double>(g, 100, kInfNorm), 4.0);  // max |g_i|
  EXPECT_EQ(clip_grad_norm<double>(g, 100, 1), 7.0);         // sum |g_i|
  EXPECT_NEAR(clip_grad_norm<double>(g, 100, 3), std::cbrt(27.0 + 64.0), 1e-14);
  clip_grad_norm<double>(g, 2, kInfNorm);  // factor 2 / (4 + 1e-6)
  EXPECT_DOUBLE_EQ(g[1], -4 * 2 / (4 + 1e-6));
}

TEST(ClipGradNorm, NonFiniteGradientFollowsPyTorchOrThrowsWhenAsked) {
  std::vector<double> g{1, NAN};
  EXPECT_TRUE(std::isnan(clip_grad_norm<double>(g, 1.0, 2, /*error_if_nonfinite=*/false)));
  EXPECT_TRUE(std::isnan(g[0]));  // PyTorch's default: scaled by NaN
  std::vector<double> h{1, INFINITY};
  EXPECT_THROW(clip_grad_norm<double>(h, 1.0, 2, /*error_if_nonfinite=*/true), InvalidArgument);
  EXPECT_EQ(h[0], 1.0);  // left unchanged
  EXPECT_THROW(clip_grad_norm<double>(h, -1.0), InvalidArgument);
  EXPECT_THROW(clip_grad_norm<double>(h, 1.0, 0), InvalidArgument);
}

}  // namespace
}  // namespace neuralode::train
