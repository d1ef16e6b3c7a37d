// Conv2d and ConcatConv2d: the forward pass against a naive loop, every derivative product against
// central differences (nn::gradcheck, double), float (oneDNN) against double (reference im2col),
// the cache (no allocation after the first call at a batch size), and shape errors.
#include "neuralode/nn/conv2d.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/concat_conv2d.hpp"
#include "neuralode/nn/gradcheck.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/sequential.hpp"
#include "nn/layer_calls.hpp"

#include "support/alloc_counter.hpp"

namespace neuralode::nn {
namespace alloc_count = neuralode::testing::alloc_count;
}

namespace neuralode::nn {
namespace {

// Shapes covering the cases the models use: 3x3 "same" (ODE-Net's residual/ODE blocks), 4x4
// stride 2 padding 1 (ODE-Net's down-sampling), 1x1, no bias, stride 2 without padding on a
// non-square image (the last row/column of the input unread).
std::vector<Conv2dOptions> geometries() {
  return {
      {.in_channels = 2,
       .out_channels = 3,
       .kernel_size = 3,
       .padding = 1,
       .height = 5,
       .width = 5},
      {.in_channels = 3,
       .out_channels = 2,
       .kernel_size = 4,
       .stride = 2,
       .padding = 1,
       .height = 6,
       .width = 6},
      {.in_channels = 2,
       .out_channels = 2,
       .kernel_size = 3,
       .bias = false,
       .height = 4,
       .width = 6},
      {.in_channels = 1, .out_channels = 3, .kernel_size = 1, .height = 3, .width = 2},
      {.in_channels = 2, .out_channels = 3, .kernel_size = 3, .stride = 2, .height = 7, .width = 6},
  };
}

template <class Scalar>
std::unique_ptr<Layer<Scalar>> make(bool concat, const Conv2dOptions& o) {
  if (concat) return std::make_unique<ConcatConv2d<Scalar>>(o);
  return std::make_unique<Conv2d<Scalar>>(o);
}

Matrix<double> random_matrix(Index rows, Index cols, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(-1, 1);
  return m;
}

std::vector<double> default_params(const Layer<double>& layer, std::uint64_t seed) {
  std::vector<double> p(static_cast<std::size_t>(layer.num_params()));
  init_default<double>(p, layer.param_specs(), seed);
  return p;
}

// The definition, one multiply-add at a time: y[n, o, i, j] = b[o] + sum_{c, kh, kw}
// w[o, c, kh, kw] * x_ext[n, c, i*s - p + kh, j*s - p + kw], where x_ext is x with a channel of t
// prepended when `concat` (torchdiffeq's ConcatConv2d) and out-of-image taps read 0.
Matrix<double> naive_conv(const Conv2dOptions& o, bool concat, double t, const Matrix<double>& x,
                          const std::vector<double>& params) {
  const Index ci = o.in_channels + (concat ? 1 : 0), k = o.kernel_size, hw = o.height * o.width;
  const Index ho = o.out_height(), wo = o.out_width();
  const double* w = params.data();
  const double* b = o.bias ? w + o.out_channels * ci * k * k : nullptr;
  Matrix<double> y(x.rows(), o.out_channels * ho * wo);
  for (Index n = 0; n < x.rows(); ++n) {
    auto in = [&](Index c, Index ih, Index iw) -> double {
      if (ih < 0 || ih >= o.height || iw < 0 || iw >= o.width) return 0;
      if (concat && c == 0) return t;
      return x(n, (c - (concat ? 1 : 0)) * hw + ih * o.width + iw);
    };
    for (Index oc = 0; oc < o.out_channels; ++oc) {
      for (Index i = 0; i < ho; ++i) {
        for (Index j = 0; j < wo; ++j) {
          double s = b ? b[oc] : 0;
          for (Index c = 0; c < ci; ++c) {
            for (Index kh = 0; kh < k; ++kh) {
              for (Index kw = 0; kw < k; ++kw) {
                s += w[((oc * ci + c) * k + kh) * k + kw] *
                     in(c, i * o.stride - o.padding + kh, j * o.stride - o.padding + kw);
              }
            }
          }
          y(n, (oc * ho + i) * wo + j) = s;
        }
      }
    }
  }
  return y;
}

template <class A, class B>
double max_rel_diff(const A& got, const B& want) {
  const double scale = std::max(want.cwiseAbs().maxCoeff(), 1e-30);
  return (got.template cast<double>() - want).cwiseAbs().maxCoeff() / scale;
}

std::string label(bool concat, const Conv2dOptions& o) {
  return std::string(concat ? "ConcatConv2d(" : "Conv2d(") + o.describe() + ")";
}

TEST(Conv2d, OutputShapeFollowsPyTorch) {
  // ODE-Net's down-sampling: 28x28 -> 13x13 (k 3, no padding) -> 6x6 (k 4, stride 2, padding 1).
  Conv2d<float> c1(
      {.in_channels = 1, .out_channels = 64, .kernel_size = 3, .height = 28, .width = 28});
  EXPECT_EQ(c1.out_features(), 64 * 26 * 26);
  Conv2d<float> c2({.in_channels = 64,
                    .out_channels = 64,
                    .kernel_size = 4,
                    .stride = 2,
                    .padding = 1,
                    .height = 26,
                    .width = 26});
  EXPECT_EQ(c2.options().out_height(), 13);
  EXPECT_EQ(c2.out_features(), 64 * 13 * 13);
  EXPECT_EQ(c2.in_features(), 64 * 26 * 26);
}

TEST(Conv2d, ParametersUsePyTorchLayout) {
  const Conv2dOptions o{
      .in_channels = 3, .out_channels = 5, .kernel_size = 4, .height = 8, .width = 8};
  Conv2d<double> conv(o);
  auto specs = conv.param_specs();
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].name, "weight");
  EXPECT_EQ(specs[0].shape, (std::vector<Index>{5, 3, 4, 4}));
  EXPECT_EQ(specs[1].name, "bias");
  EXPECT_EQ(specs[1].shape, (std::vector<Index>{5}));
  EXPECT_EQ(specs[1].offset, 5 * 3 * 4 * 4);
  ConcatConv2d<double> cc(o);
  EXPECT_EQ(cc.param_specs()[0].shape, (std::vector<Index>{5, 4, 4, 4}));  // + time channel
  EXPECT_EQ(cc.num_params(), 5 * 4 * 16 + 5);
  Conv2dOptions nb = o;
  nb.bias = false;
  EXPECT_EQ(Conv2d<double>(nb).param_specs().size(), 1u);
}

TEST(Conv2d, DefaultInitIsPyTorchsKaimingUniform) {
  // bound = 1/sqrt(fan_in), fan_in = in * k * k, for weight and bias alike.
  const Conv2dOptions o{
      .in_channels = 4, .out_channels = 8, .kernel_size = 3, .height = 5, .width = 5};
  Conv2d<double> conv(o);
  const auto p = default_params(conv, 3);
  const double bound = 1 / std::sqrt(4.0 * 9);
  double largest = 0;
  for (double v : p) largest = std::max(largest, std::abs(v));
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, 0.9 * bound);  // 296 draws: the largest is within 10% of the bound
}

TEST(Conv2d, ForwardMatchesNaiveLoop) {
  for (bool concat : {false, true}) {
    for (const auto& o : geometries()) {
      SCOPED_TRACE(label(concat, o));
      auto d = make<double>(concat, o);
      auto f = make<float>(concat, o);
      auto p = default_params(*d, 11);
      std::vector<float> pf(p.begin(), p.end());
      for (double& v : p) v = static_cast<float>(v);  // both see the same (float) values
      d->bind(p.data());
      f->bind(pf.data());
      const Index batch = 3;
      const double t = 0.37;
      Matrix<double> x = random_matrix(batch, d->in_features(), 5).cast<float>().cast<double>();
      Matrix<double> y(batch, d->out_features());
      fwd(*d, t, x, y);
      const Matrix<double> want = naive_conv(o, concat, t, x, p);
      // Double: the same sums in another order, at most k*k*C = 36 terms of size <= 1.
      EXPECT_LT(max_rel_diff(y, want), 1e-13);
      Matrix<float> xf = x.cast<float>(), yf(batch, d->out_features());
      fwd(*f, static_cast<float>(t), xf, yf);
      // Float: <= 36 terms, rounding error <= 36 * 2^-24 * sum|terms| ~ 2e-6 of the largest.
      EXPECT_LT(max_rel_diff(yf, want), 1e-5);
    }
  }
}

// Central differences in double (nn::gradcheck, h = 1e-6). The layer is affine in x, in theta and
// in t, so the differences have no truncation error; what remains is rounding, about
// eps * sum|a_i y_i| / h ~ 1e-16 * 100 / 1e-6 = 1e-8 for the ~100 O(1) outputs here, relative to
// the largest gradient entry (>= 1 in the error measure). 1e-6 leaves two orders of margin.
TEST(Conv2d, DerivativeProductsMatchCentralDifferences) {
  for (bool concat : {false, true}) {
    for (const auto& o : geometries()) {
      SCOPED_TRACE(label(concat, o));
      auto layer = make<double>(concat, o);
      auto p = default_params(*layer, 7);
      layer->bind(p.data());
      const GradcheckReport r = gradcheck(*layer, p, 2, 1234);
      EXPECT_TRUE(r.ok(1e-6)) << r.report();
      if (concat) {
        EXPECT_GT(r.num_params, 0);
      }
    }
  }
}

TEST(ConcatConv2d, TimeGradientIsTheTimeChannelContraction) {
  // d<a, y>/dt = sum_{n, o, i, j} a[n, o, i, j] * (sum of w[o, 0, kh, kw] over inside taps): with
  // a = 1 and 3x3 "same" on 3x3 images, corner pixels see 4 taps, edges 6, the centre 9.
  const Conv2dOptions o{.in_channels = 1,
                        .out_channels = 1,
                        .kernel_size = 3,
                        .padding = 1,
                        .bias = false,
                        .height = 3,
                        .width = 3};
  ConcatConv2d<double> cc(o);
  std::vector<double> p(static_cast<std::size_t>(cc.num_params()), 0.0);
  for (int i = 0; i < 9; ++i) p[static_cast<std::size_t>(i)] = 1.0;  // time filter = 1
  cc.bind(p.data());
  Matrix<double> x = Matrix<double>::Zero(2, 9), y(2, 9), x_bar(2, 9);
  fwd(cc, 0.5, x, y);
  EXPECT_DOUBLE_EQ(y(0, 0), 0.5 * 4);
  EXPECT_DOUBLE_EQ(y(0, 1), 0.5 * 6);
  EXPECT_DOUBLE_EQ(y(0, 4), 0.5 * 9);
  double t_bar = 0;
  bwd(cc, Matrix<double>::Ones(2, 9), x_bar, nullptr, &t_bar);
  EXPECT_DOUBLE_EQ(t_bar, 2 * (4 * 4 + 4 * 6 + 9));
}

// A null x_bar (Layer::skips_input_adjoint): the parameter and time gradients are the same as with
// one, to the bit (the same kernels run on the same inputs), on both kernels (float: oneDNN,
// double: reference), alone and as the first layer of a Sequential. A Sequential whose first
// layer cannot skip (an activation) still gives the same gradients.
template <class Scalar>
void expect_same_gradients_without_input_adjoint(bool concat, const Conv2dOptions& o) {
  auto conv = make<Scalar>(concat, o);
  ASSERT_TRUE(conv->skips_input_adjoint());
  const auto pd = default_params(*make<double>(concat, o), 5);
  std::vector<Scalar> p(pd.begin(), pd.end());
  conv->bind(p.data());
  const Index batch = 3, in = conv->in_features(), out = conv->out_features();
  const Matrix<Scalar> x = random_matrix(batch, in, 6).cast<Scalar>();
  const Matrix<Scalar> a = random_matrix(batch, out, 7).cast<Scalar>();
  Matrix<Scalar> y(batch, out), x_bar(batch, in);
  auto gradients = [&](Layer<Scalar>& layer, bool with_x_bar) {
    std::vector<Scalar> g(p.size(), Scalar(0));
    Scalar t_bar = 0;
    std::vector<Scalar> ctx(static_cast<std::size_t>(layer.context_size(batch) + 1));
    layer.forward(Scalar(0.3), ConstMatrixView<Scalar>(x.data(), batch, in),
                  MatrixView<Scalar>(y.data(), batch, out), ctx.data());
    layer.backward(Scalar(0.3), ConstMatrixView<Scalar>(x.data(), batch, in), ctx.data(),
                   ConstMatrixView<Scalar>(a.data(), batch, out),
                   MatrixView<Scalar>(with_x_bar ? x_bar.data() : nullptr, batch, in), g.data(),
                   &t_bar);
    g.push_back(t_bar);
    return g;
  };
  EXPECT_EQ(gradients(*conv, false), gradients(*conv, true));

  Sequential<Scalar> seq(make<Scalar>(concat, o));
  seq.bind(p.data());
  EXPECT_EQ(gradients(seq, false), gradients(seq, true));
  Sequential<Scalar> relu_first(std::make_unique<Activation<Scalar>>(ActivationFn::relu, in),
                                make<Scalar>(concat, o));
  ASSERT_FALSE(relu_first[0].skips_input_adjoint());
  relu_first.bind(p.data());
  EXPECT_EQ(gradients(relu_first, false), gradients(relu_first, true));
}

TEST(Conv2d, NullInputAdjointGivesTheSameParameterGradients) {
  const Conv2dOptions o{
      .in_channels = 3, .out_channels = 4, .kernel_size = 3, .padding = 1, .height = 5, .width = 5};
  for (bool concat : {false, true}) {
    SCOPED_TRACE(label(concat, o));
    expect_same_gradients_without_input_adjoint<float>(concat, o);
    expect_same_gradients_without_input_adjoint<double>(concat, o);
  }
}

// oneDNN (float) against the reference path (double) on the shapes the ODE-Net field uses.
// Each product is a sum of K <= 64 * 16 = 1024 terms (weight gradients: batch * pixels <= 144;
// t_bar: batch * out_features = 9216) of O(1) * O(1/sqrt(K)) values; float rounding grows like
// sqrt(K) * 2^-24 * (scale of the terms), ~2e-6 of the largest entry for K = 1024. The bound 2e-5
// allows a 10x worse constant. t_bar, one sum with cancellation, is compared to the sum of |terms|.
TEST(Conv2d, FloatOnednnMatchesDoubleReference) {
  const std::vector<Conv2dOptions> shapes{
      {.in_channels = 64,
       .out_channels = 64,
       .kernel_size = 3,
       .padding = 1,
       .height = 6,
       .width = 6},
      {.in_channels = 64,
       .out_channels = 64,
       .kernel_size = 4,
       .stride = 2,
       .padding = 1,
       .height = 8,
       .width = 8},
      {.in_channels = 3, .out_channels = 16, .kernel_size = 3, .height = 9, .width = 7},
  };
  for (bool concat : {false, true}) {
    for (const auto& o : shapes) {
      SCOPED_TRACE(label(concat, o));
      auto d = make<double>(concat, o);
      auto f = make<float>(concat, o);
      auto p = default_params(*d, 21);
      for (double& v : p) v = static_cast<float>(v);
      std::vector<float> pf(p.begin(), p.end());
      d->bind(p.data());
      f->bind(pf.data());
      const Index batch = 4, in = d->in_features(), out = d->out_features();
      const double t = 0.8;
      auto rnd = [](Index r, Index c, std::uint64_t s) {
        return Matrix<double>(random_matrix(r, c, s).cast<float>().cast<double>());
      };
      const Matrix<double> x = rnd(batch, in, 1), v = rnd(batch, in, 2);
      const Matrix<double> a = rnd(batch, out, 3), b = rnd(batch, out, 4);
      const Matrix<float> xf = x.cast<float>(), vf = v.cast<float>(), af = a.cast<float>(),
                          bf = b.cast<float>();
      Matrix<double> y(batch, out), yd(batch, out), xb(batch, in), vb(batch, in);
      Matrix<float> yf(batch, out), ydf(batch, out), xbf(batch, in), vbf(batch, in);
      std::vector<double> g(p.size(), 0.0);
      std::vector<float> gf(p.size(), 0.0f);
      double tb = 0;
      float tbf = 0;
      auto vec = [](const auto& s) {
        return Eigen::Map<
            const Eigen::Matrix<typename std::decay_t<decltype(s)>::value_type, Eigen::Dynamic, 1>>(
            s.data(), static_cast<Index>(s.size()));
      };
      const double tol = 2e-5;
      const double t_scale = a.cwiseAbs().sum() * 1.0;  // |time filter sums| <= 9/sqrt(K) < 1

      fwd(*d, t, x, y);
      fwd(*f, static_cast<float>(t), xf, yf);
      EXPECT_LT(max_rel_diff(yf, y), tol) << "forward";
      bwd(*d, a, xb, g.data(), &tb);
      bwd(*f, af, xbf, gf.data(), &tbf);
      EXPECT_LT(max_rel_diff(xbf, xb), tol) << "backward x_bar";
      EXPECT_LT(max_rel_diff(vec(gf), vec(g)), tol) << "backward theta_bar";
      EXPECT_LT(std::abs(tbf - tb) / t_scale, tol) << "backward t_bar";

      std::fill(g.begin(), g.end(), 0.0);
      std::fill(gf.begin(), gf.end(), 0.0f);
      tb = 0;
      tbf = 0;
      tfwd(*d, t, x, v, y, yd);
      tfwd(*f, static_cast<float>(t), xf, vf, yf, ydf);
      EXPECT_LT(max_rel_diff(yf, y), tol) << "tangent y";
      EXPECT_LT(max_rel_diff(ydf, yd), tol) << "tangent y_dot";
      tbwd(*d, a, b, xb, vb, g.data(), &tb);
      tbwd(*f, af, bf, xbf, vbf, gf.data(), &tbf);
      EXPECT_LT(max_rel_diff(xbf, xb), tol) << "tangent backward x_bar";
      EXPECT_LT(max_rel_diff(vbf, vb), tol) << "tangent backward x_dot_bar";
      EXPECT_LT(max_rel_diff(vec(gf), vec(g)), tol) << "tangent backward theta_bar";
      EXPECT_LT(std::abs(tbf - tb) / t_scale, tol) << "tangent backward t_bar";
    }
  }
}

template <class Scalar>
void check_no_allocation(bool concat) {
  const Conv2dOptions o{.in_channels = 16,
                        .out_channels = 16,
                        .kernel_size = 3,
                        .padding = 1,
                        .height = 6,
                        .width = 6};
  auto l = make<Scalar>(concat, o);
  std::vector<Scalar> p(static_cast<std::size_t>(l->num_params()), Scalar(0.01));
  std::vector<Scalar> g(p.size(), Scalar(0));
  l->bind(p.data());
  auto products = [&](Index batch) {
    Matrix<Scalar> x = Matrix<Scalar>::Constant(batch, l->in_features(), Scalar(0.3));
    Matrix<Scalar> y(batch, l->out_features()), yd(batch, l->out_features());
    Matrix<Scalar> xb(batch, l->in_features()), vb(batch, l->in_features());
    Scalar tb = 0;
    return [&, x, y, yd, xb, vb, tb]() mutable {
      fwd(*l, Scalar(0.5), x, y);
      bwd(*l, y, xb, g.data(), &tb);
      tfwd(*l, Scalar(0.5), x, x, y, yd);
      tbwd(*l, y, yd, xb, vb, g.data(), &tb);
    };
  };
  auto at8 = products(8);
  auto at3 = products(3);
  at8();  // first call at batch 8: creates what it needs
  at3();  // another batch size
  if constexpr (std::is_same_v<Scalar, double>) {
    EXPECT_EQ(alloc_count::count(at8), 0) << "second call at batch 8";
    EXPECT_EQ(alloc_count::count(at3), 0) << "second call at batch 3";
  } else {
    // oneDNN 2.6 allocates a few small nodes inside every dnnl_primitive_execute (its argument
    // map); nothing else may allocate. Creating primitives costs hundreds of allocations, so a
    // count that is constant across calls and below ~5 per execute (<= 40 executes here) shows
    // that nothing is created or resized after the first call.
    const long first = alloc_count::count(at8);
    EXPECT_EQ(alloc_count::count(at8), first) << "allocations per call must not vary";
    EXPECT_LT(first, 200) << "primitives re-created after the first call at batch 8?";
    EXPECT_LT(alloc_count::count(at3), 200) << "primitives re-created after the first call at 3?";
  }
}

TEST(Conv2d, NoAllocationAfterFirstCallAtFixedBatch) {
  if (!alloc_count::is_live()) GTEST_SKIP() << "allocation counter not active (sanitizer build?)";
  check_no_allocation<double>(false);
  check_no_allocation<double>(true);
  check_no_allocation<float>(false);
  check_no_allocation<float>(true);
}

template <class F>
void expect_invalid(F&& f, std::initializer_list<const char*> fragments) {
  try {
    f();
    FAIL() << "no InvalidArgument thrown";
  } catch (const InvalidArgument& e) {
    for (const char* frag : fragments) {
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
          << "message '" << e.what() << "' lacks '" << frag << "'";
    }
  }
}

TEST(Conv2d, RejectsBadShapesNamingThem) {
  expect_invalid(
      [] { Conv2d<float>({.out_channels = 4, .kernel_size = 3, .height = 5, .width = 5}); },
      {"Conv2d", "in_channels = 0"});
  expect_invalid(
      [] {
        ConcatConv2d<double>({.in_channels = 2,
                              .out_channels = 4,
                              .kernel_size = 3,
                              .stride = 0,
                              .height = 5,
                              .width = 5});
      },
      {"ConcatConv2d", "stride = 0"});
  expect_invalid(
      [] {
        Conv2d<double>({.in_channels = 2,
                        .out_channels = 4,
                        .kernel_size = 7,
                        .padding = 1,
                        .height = 4,
                        .width = 9});
      },
      {"kernel_size = 7", "4x9"});
  expect_invalid(
      [] {
        Conv2d<double>({.in_channels = 2,
                        .out_channels = 4,
                        .kernel_size = 3,
                        .padding = -1,
                        .height = 4,
                        .width = 4});
      },
      {"padding = -1"});
  Conv2d<double> conv({.in_channels = 2,
                       .out_channels = 3,
                       .kernel_size = 3,
                       .padding = 1,
                       .height = 4,
                       .width = 4});
  std::vector<double> p(static_cast<std::size_t>(conv.num_params()), 0.1);
  conv.bind(p.data());
  Matrix<double> x(2, 30), y(2, 48);
  expect_invalid([&] { fwd(conv, 0, x, y); }, {"x is 2 x 30", "expected batch x 32"});
  Matrix<double> x2(2, 32), y2(3, 48);
  expect_invalid([&] { fwd(conv, 0, x2, y2); }, {"y is 3 x 48", "expected 2 x 48"});
}

}  // namespace
}  // namespace neuralode::nn
