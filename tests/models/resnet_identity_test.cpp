// The identity the reference text is built on: an ODE block whose field has piecewise-constant
// weights theta_k on [t_k, t_{k+1}), solved by Euler with step h on the grid t_k = k h, is exactly
// a ResNet whose block k computes x + h f_k(x) -- forward and gradients.
#include <gtest/gtest.h>

#include <memory>

#include "neuralode/models/ode_block.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/conv2d.hpp"
#include "neuralode/nn/group_norm.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/piecewise_constant.hpp"
#include "neuralode/nn/residual.hpp"
#include "neuralode/nn/sequential.hpp"
#include "nn/layer_calls.hpp"

namespace neuralode::models {
namespace {

constexpr Index kChannels = 4, kSide = 5, kBatch = 3, kBlocks = 4;
constexpr float kStep = 0.25f;  // a power of two: the grid k*h is exact in float

// ODE-Net's field at a small size without the time channel (a ResNet block sees no t): GN ReLU
// Conv2d GN ReLU Conv2d GN.
std::unique_ptr<nn::Layer<float>> small_field() {
  const nn::Conv2dOptions conv{.in_channels = kChannels,
                               .out_channels = kChannels,
                               .kernel_size = 3,
                               .padding = 1,
                               .height = kSide,
                               .width = kSide};
  const nn::GroupNormOptions gn{
      .num_groups = 2, .num_channels = kChannels, .height = kSide, .width = kSide};
  const Index n = kChannels * kSide * kSide;
  auto s = std::make_unique<nn::Sequential<float>>();
  s->add(std::make_unique<nn::GroupNorm<float>>(gn))
      .add(std::make_unique<nn::Activation<float>>(nn::ActivationFn::relu, n))
      .add(std::make_unique<nn::Conv2d<float>>(conv))
      .add(std::make_unique<nn::GroupNorm<float>>(gn))
      .add(std::make_unique<nn::Activation<float>>(nn::ActivationFn::relu, n))
      .add(std::make_unique<nn::Conv2d<float>>(conv))
      .add(std::make_unique<nn::GroupNorm<float>>(gn));
  return s;
}

float max_abs(const Matrix<float>& m) {
  return m.cwiseAbs().maxCoeff();
}

TEST(ResNetIdentity, PiecewiseConstantEulerBlockEqualsResNetForwardAndGradients) {
  std::vector<float> grid;
  for (Index k = 0; k <= kBlocks; ++k) grid.push_back(kStep * static_cast<float>(k));
  OdeBlockOptions bo{.t0 = 0, .t1 = 1};
  bo.solve.method = "euler";
  bo.solve.step_size = kStep;
  bo.grad.method = "direct";
  OdeBlock<float> ode(std::make_unique<nn::PiecewiseConstant<float>>(grid, small_field), bo);

  nn::Sequential<float> resnet;
  for (Index k = 0; k < kBlocks; ++k)
    resnet.add(std::make_unique<nn::Residual<float>>(small_field(), kStep));

  // Same layout: PiecewiseConstant names block k's parameters "<k>.<name>", as Sequential does.
  const auto ode_views = ode.param_specs(), res_views = resnet.param_specs();
  ASSERT_EQ(ode_views.size(), res_views.size());
  for (std::size_t i = 0; i < ode_views.size(); ++i) {
    EXPECT_EQ(ode_views[i].name, res_views[i].name);
    EXPECT_EQ(ode_views[i].offset, res_views[i].offset);
  }
  std::vector<float> params(static_cast<std::size_t>(ode.num_params()));
  // Non-trivial GroupNorm affine parameters too: perturb everything with N(0, 0.3^2) on top of
  // PyTorch's init.
  nn::init_default<float>(params, ode_views, 7);
  nn::Rng rng(8);
  std::vector<float> noise(params.size());
  nn::normal<float>(noise, 0.3, rng);
  for (std::size_t i = 0; i < params.size(); ++i) params[i] += noise[i];
  ode.bind(params.data());
  resnet.bind(params.data());

  const Index n = kChannels * kSide * kSide;
  Matrix<float> x = Matrix<float>::Random(kBatch, n), y_ode(kBatch, n), y_res(kBatch, n);
  nn::fwd<float>(ode, 0, x, y_ode);
  nn::fwd<float>(resnet, 0, x, y_res);
  EXPECT_EQ(ode.last_nfe_forward(), kBlocks);

  // The two compute the same float operations in the same order up to the association of
  // x + h k (solver) versus x + h f (residual): a few ulps per block. Four blocks, each output
  // O(1) after GroupNorm, so 1e-5 absolute is ~100 ulps of the largest entries: rounding, while a
  // wrong block, step or time would show as O(h) = 0.25 differences.
  EXPECT_LT(max_abs(y_ode - y_res), 1e-5f) << "forward";

  Matrix<float> y_bar = Matrix<float>::Random(kBatch, n), xb_ode(kBatch, n), xb_res(kBatch, n);
  std::vector<float> g_ode(params.size(), 0.f), g_res(params.size(), 0.f);
  nn::bwd<float>(ode, y_bar, xb_ode, g_ode.data(), nullptr);
  nn::bwd<float>(resnet, y_bar, xb_res, g_res.data(), nullptr);
  // Gradients are sums over a batch and up to 100 pixels of O(1) terms: allow 1e-5 relative to
  // the largest entry (again ~100 ulps).
  EXPECT_LT(max_abs(xb_ode - xb_res), 1e-5f * std::max(1.f, max_abs(xb_res))) << "dL/dx";
  float gmax = 0, gdiff = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    gmax = std::max(gmax, std::abs(g_res[i]));
    gdiff = std::max(gdiff, std::abs(g_ode[i] - g_res[i]));
  }
  ASSERT_GT(gmax, 0.f);
  EXPECT_LT(gdiff, 1e-5f * std::max(1.f, gmax)) << "dL/dtheta";
  // Every block received gradient: each theta_k was used exactly on its own interval.
  const Index per_block = ode.num_params() / kBlocks;
  for (Index k = 0; k < kBlocks; ++k) {
    float s = 0;
    for (Index i = 0; i < per_block; ++i)
      s += std::abs(g_ode[static_cast<std::size_t>(k * per_block + i)]);
    EXPECT_GT(s, 0.f) << "block " << k;
  }
}

}  // namespace
}  // namespace neuralode::models
