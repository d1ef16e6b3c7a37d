// OdeBlock as a layer: the gradient methods agree through it, backward adds into theta_bar, and
// bad use is named.
#include <gtest/gtest.h>

#include <memory>

#include "neuralode/error.hpp"
#include "neuralode/models/ode_block.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/concat_conv2d.hpp"
#include "neuralode/nn/group_norm.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/layer_field.hpp"
#include "neuralode/nn/linear.hpp"
#include "neuralode/nn/sequential.hpp"
#include "nn/layer_calls.hpp"

namespace neuralode::models {
namespace {

constexpr Index kC = 4, kSide = 5, kBatch = 3, kN = kC * kSide * kSide;

// ODE-Net's field with smooth activations (softplus, tanh): with ReLU the right-hand side has
// kinks, adaptive steps at 1e-10 straddle them (hundreds of rejections), and the discrete and
// continuous gradients then differ by far more than the tolerance says. The smooth field checks
// the block's plumbing where the methods are comparable.
std::unique_ptr<nn::Layer<double>> smooth_field() {
  const nn::Conv2dOptions conv{.in_channels = kC,
                               .out_channels = kC,
                               .kernel_size = 3,
                               .padding = 1,
                               .height = kSide,
                               .width = kSide};
  const nn::GroupNormOptions gn{
      .num_groups = 2, .num_channels = kC, .height = kSide, .width = kSide};
  auto s = std::make_unique<nn::Sequential<double>>();
  s->add(std::make_unique<nn::GroupNorm<double>>(gn))
      .add(std::make_unique<nn::Activation<double>>(nn::ActivationFn::softplus, kN))
      .add(std::make_unique<nn::ConcatConv2d<double>>(conv))
      .add(std::make_unique<nn::GroupNorm<double>>(gn))
      .add(std::make_unique<nn::Activation<double>>(nn::ActivationFn::tanh, kN))
      .add(std::make_unique<nn::ConcatConv2d<double>>(conv));
  return s;
}

struct Result {
  Matrix<double> y, x_bar;
  std::vector<double> theta_bar;
};

Result run(const std::string& grad, double tol) {
  OdeBlockOptions o;
  o.solve.rtol = o.solve.atol = tol;
  o.grad.method = grad;
  OdeBlock<double> block(smooth_field(), o);
  std::vector<double> params(static_cast<std::size_t>(block.num_params()));
  nn::init_default<double>(params, block.param_specs(), 11);
  block.bind(params.data());
  std::srand(5);
  const Matrix<double> x = Matrix<double>::Random(kBatch, kN);
  const Matrix<double> y_bar = Matrix<double>::Random(kBatch, kN);
  Result r{Matrix<double>(kBatch, kN), Matrix<double>(kBatch, kN), {}};
  nn::fwd<double>(block, 0, x, r.y);
  r.theta_bar.assign(params.size(), 1.0);  // backward adds: start from ones, subtract below
  nn::bwd<double>(block, y_bar, r.x_bar, r.theta_bar.data(), nullptr);
  for (double& v : r.theta_bar) v -= 1.0;
  return r;
}

double rel(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0, d = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::abs(b[i])), d = std::max(d, std::abs(a[i] - b[i]));
  return d / m;
}

TEST(OdeBlock, AdjointCheckpointAndBinomialAgreeWithDirectAtTightTolerance) {
  // At rtol = atol = 1e-10 every method approximates the exact gradient of x(1) within ~1e-9
  // relative; 1e-6 is the bound of the grad tests (and binomial repeats direct's steps exactly).
  const Result direct = run("direct", 1e-10);
  for (const char* grad : {"adjoint", "checkpoint", "binomial"}) {
    const Result r = run(grad, 1e-10);
    // The same solve, but in another instance: the double convolution's GEMM may round
    // differently with its buffers at other addresses (Eigen's kernels peel by alignment), a few
    // ulps per evaluation that the adaptive controller can turn into a slightly different step.
    EXPECT_LT((r.y - direct.y).cwiseAbs().maxCoeff(), 1e-9) << grad << ": the forward solve";
    const std::vector<double> xa(r.x_bar.data(), r.x_bar.data() + r.x_bar.size()),
        xd(direct.x_bar.data(), direct.x_bar.data() + direct.x_bar.size());
    EXPECT_LT(rel(xa, xd), 1e-6) << grad << " dL/dx";
    EXPECT_LT(rel(r.theta_bar, direct.theta_bar), 1e-6) << grad << " dL/dtheta";
  }
}

// An ODE block offers no tangent passes: it is not a TangentLayer (nothing to stub), and a field
// containing one refuses jvp with InvalidArgument naming the reason.
TEST(OdeBlock, TangentPassesAndBackwardAfterEvaluationAreRefused) {
  OdeBlockOptions o;
  OdeBlock<double> block(smooth_field(), o);
  std::vector<double> params(static_cast<std::size_t>(block.num_params()), 0.01);
  block.bind(params.data());
  Matrix<double> x = Matrix<double>::Random(2, kN), y(2, kN), xb(2, kN);
  EXPECT_EQ(block.tangent(), nullptr);
  {
    nn::LayerField<double> outer(std::make_unique<OdeBlock<double>>(smooth_field(), o));
    EXPECT_FALSE(outer.has_tangent());
    try {
      outer.jvp(0, ConstMatrixView<double>(x.data(), 2, kN),
                ConstMatrixView<double>(x.data(), 2, kN), MatrixView<double>(y.data(), 2, kN),
                MatrixView<double>(xb.data(), 2, kN));
      FAIL() << "jvp through an OdeBlock did not throw";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("no tangent passes"), std::string::npos) << e.what();
    }
  }
  block.set_training(false);
  nn::fwd<double>(block, 0, x, y);
  EXPECT_GT(block.last_nfe_forward(), 0);
  EXPECT_THROW(nn::bwd<double>(block, y, xb, nullptr, nullptr), InvalidArgument);
}

// One block applied twice in one chain, y = B(B(x)), L = <c, y>, backpropagated in reverse
// order: the second backward's forward is not the one the gradient method holds, so the block
// re-runs it from its input; gradients w.r.t. x and the shared parameters match central
// differences. Fixed RK4 steps make direct and binomial (direct with recomputation) exact for the
// discrete map, so the only error is the differences': h = 1e-6 gives ~1e-10 (rounding eps |L| / h,
// |L| ~ 1); 1e-8 bounds it.
TEST(OdeBlock, UsedTwiceInOneChainGivesExactGradients) {
  for (const char* method : {"direct", "binomial"}) {
    OdeBlockOptions o;
    o.solve.method = "rk4";
    o.solve.step_size = 0.25;
    o.grad.method = method;
    auto root = std::make_unique<nn::Sequential<double>>(
        std::make_unique<nn::Linear<double>>(3, 3),
        std::make_unique<nn::Activation<double>>(nn::ActivationFn::tanh, 3));
    OdeBlock<double> block(std::move(root), o);
    std::vector<double> theta(static_cast<std::size_t>(block.num_params()));
    nn::init_default<double>(theta, block.param_specs(), 4);
    block.bind(theta.data());
    Matrix<double> x(2, 3), c(2, 3);
    x << 0.3, -0.5, 0.9, -0.2, 0.7, 0.1;
    c << 1.0, -0.4, 0.6, 0.2, 0.8, -1.1;
    using CV = ConstMatrixView<double>;
    using MV = MatrixView<double>;
    auto loss = [&](std::vector<double>* g, Matrix<double>* xg) {
      Matrix<double> y1(2, 3), y2(2, 3);
      std::vector<double> c1(static_cast<std::size_t>(block.context_size(2))), c2 = c1;
      block.forward(0.0, CV(x.data(), 2, 3), MV(y1.data(), 2, 3), c1.data());
      block.forward(0.0, CV(y1.data(), 2, 3), MV(y2.data(), 2, 3), c2.data());
      const double l = (c.array() * y2.array()).sum();
      if (!g) return l;
      g->assign(theta.size(), 0.0);
      Matrix<double> a1(2, 3);
      block.backward(0.0, CV(y1.data(), 2, 3), c2.data(), CV(c.data(), 2, 3), MV(a1.data(), 2, 3),
                     g->data(), nullptr);
      block.backward(0.0, CV(x.data(), 2, 3), c1.data(), CV(a1.data(), 2, 3), MV(xg->data(), 2, 3),
                     g->data(), nullptr);
      return l;
    };
    std::vector<double> g;
    Matrix<double> xg(2, 3);
    loss(&g, &xg);
    const double h = 1e-6;
    for (std::size_t i = 0; i < theta.size(); ++i) {
      const double keep = theta[i];
      theta[i] = keep + h;
      const double lp = loss(nullptr, nullptr);
      theta[i] = keep - h;
      const double lm = loss(nullptr, nullptr);
      theta[i] = keep;
      EXPECT_NEAR(g[i], (lp - lm) / (2 * h), 1e-8) << method << " theta[" << i << "]";
    }
    for (Index i = 0; i < x.size(); ++i) {
      const double keep = x.data()[i];
      x.data()[i] = keep + h;
      const double lp = loss(nullptr, nullptr);
      x.data()[i] = keep - h;
      const double lm = loss(nullptr, nullptr);
      x.data()[i] = keep;
      EXPECT_NEAR(xg.data()[i], (lp - lm) / (2 * h), 1e-8) << method << " x[" << i << "]";
    }
  }
}

TEST(OdeBlock, BadIntervalIsNamed) {
  OdeBlockOptions o{.t0 = 1, .t1 = 1};
  try {
    OdeBlock<double> block(smooth_field(), o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("t1 != t0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace neuralode::models
