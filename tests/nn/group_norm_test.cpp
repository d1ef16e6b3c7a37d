// GroupNorm: the forward pass against the textbook formula, every derivative product against
// central differences, float against double, no allocation after the first call, shape errors.
#include "neuralode/nn/group_norm.hpp"

#include <gtest/gtest.h>

#include "support/alloc_counter.hpp"

#include <type_traits>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/nn/gradcheck.hpp"
#include "neuralode/nn/init.hpp"
#include "nn/layer_calls.hpp"

namespace neuralode::nn {
namespace alloc_count = neuralode::testing::alloc_count;

namespace {

Matrix<double> random_matrix(Index rows, Index cols, std::uint64_t seed, double lo = -1,
                             double hi = 1) {
  Rng rng(seed);
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(lo, hi);
  return m;
}

// Random gamma, beta (init_default would give 1 and 0, which hides channel mix-ups).
std::vector<double> random_params(const Layer<double>& l, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> p(static_cast<std::size_t>(l.num_params()));
  for (double& v : p) v = rng.uniform(0.5, 1.5) * (rng.uniform() < 0.5 ? -1 : 1);
  return p;
}

std::vector<GroupNormOptions> shapes() {
  return {
      {.num_groups = 2, .num_channels = 4, .height = 3, .width = 3},
      {.num_groups = 1, .num_channels = 3, .height = 2, .width = 4},  // LayerNorm over C*H*W
      {.num_groups = 3, .num_channels = 3, .height = 3, .width = 2},  // InstanceNorm
      {.num_groups = 2, .num_channels = 6, .eps = 1e-3, .affine = false, .height = 2, .width = 2},
  };
}

std::string label(const GroupNormOptions& o) {
  return "GroupNorm(" + std::to_string(o.num_groups) + ", " + std::to_string(o.num_channels) +
         ", " + std::to_string(o.height) + "x" + std::to_string(o.width) +
         (o.affine ? "" : ", affine off") + ")";
}

// PyTorch's definition, written out: mean and biased variance over the group's channels and
// pixels, then (x - mean) / sqrt(var + eps) * gamma[c] + beta[c].
Matrix<double> naive_group_norm(const GroupNormOptions& o, const Matrix<double>& x,
                                const std::vector<double>& p) {
  const Index hw = o.height * o.width, cpg = o.num_channels / o.num_groups;
  Matrix<double> y(x.rows(), x.cols());
  for (Index n = 0; n < x.rows(); ++n) {
    for (Index g = 0; g < o.num_groups; ++g) {
      double mean = 0, var = 0;
      const double m = static_cast<double>(cpg * hw);
      for (Index c = g * cpg; c < (g + 1) * cpg; ++c)
        for (Index q = 0; q < hw; ++q) mean += x(n, c * hw + q) / m;
      for (Index c = g * cpg; c < (g + 1) * cpg; ++c)
        for (Index q = 0; q < hw; ++q) var += std::pow(x(n, c * hw + q) - mean, 2) / m;
      for (Index c = g * cpg; c < (g + 1) * cpg; ++c) {
        const double gm = o.affine ? p[static_cast<std::size_t>(c)] : 1.0;
        const double bt = o.affine ? p[static_cast<std::size_t>(o.num_channels + c)] : 0.0;
        for (Index q = 0; q < hw; ++q) {
          y(n, c * hw + q) = (x(n, c * hw + q) - mean) / std::sqrt(var + o.eps) * gm + bt;
        }
      }
    }
  }
  return y;
}

TEST(GroupNorm, ForwardMatchesNaiveFormula) {
  for (const auto& o : shapes()) {
    SCOPED_TRACE(label(o));
    GroupNorm<double> gn(o);
    auto p = random_params(gn, 1);
    gn.bind(p.data());
    // Offset and scaled input: the normalisation must remove both.
    Matrix<double> x = (random_matrix(3, gn.in_features(), 2).array() * 5 + 3).matrix();
    Matrix<double> y(3, gn.out_features());
    fwd(gn, 0, x, y);
    EXPECT_LT((y - naive_group_norm(o, x, p)).cwiseAbs().maxCoeff(), 1e-12);
  }
}

// Central differences, h = 1e-6 (nn::gradcheck). xhat is smooth with third derivatives of order
// r^3 ~ 1 for unit-scale groups, so truncation (h^2/6 |f'''| ~ 2e-13) is negligible; rounding is
// eps * sum|a y| / h ~ 1e-16 * 100 / 1e-6 = 1e-8. 1e-6 leaves two orders of margin; the reverse
// of the tangent pass (second derivatives) is checked to the same bound.
TEST(GroupNorm, DerivativeProductsMatchCentralDifferences) {
  for (const auto& o : shapes()) {
    SCOPED_TRACE(label(o));
    GroupNorm<double> gn(o);
    auto p = random_params(gn, 3);
    gn.bind(p.data());
    const GradcheckReport r = gradcheck(gn, p, 3, 99);
    EXPECT_TRUE(r.ok(1e-6)) << r.report();
  }
}

TEST(GroupNorm, DefaultInitIsIdentityAffine) {
  GroupNorm<double> gn({.num_groups = 2, .num_channels = 4, .height = 2, .width = 2});
  std::vector<double> p(static_cast<std::size_t>(gn.num_params()));
  init_default<double>(p, gn.param_specs(), 5);
  ASSERT_EQ(p.size(), 8u);
  for (std::size_t c = 0; c < 4; ++c) {
    EXPECT_EQ(p[c], 1.0) << "weight[" << c << "]";
    EXPECT_EQ(p[4 + c], 0.0) << "bias[" << c << "]";
  }
}

// Float against double on ODE-Net's shape (32 groups of 2 channels, 6x6): each statistic is a sum
// of m = 72 terms, so float rounding is ~ sqrt(72) 2^-24 ~ 5e-7 relative; normalised values are
// O(1) and r ~ 1 here, so 1e-5 of the largest entry leaves a 20x margin.
TEST(GroupNorm, FloatMatchesDouble) {
  const GroupNormOptions o{.num_groups = 32, .num_channels = 64, .height = 6, .width = 6};
  GroupNorm<double> d(o);
  GroupNorm<float> f(o);
  auto p = random_params(d, 4);
  for (double& v : p) v = static_cast<float>(v);
  std::vector<float> pf(p.begin(), p.end());
  d.bind(p.data());
  f.bind(pf.data());
  const Index batch = 5, n = d.in_features();
  auto rnd = [&](std::uint64_t s) {
    return Matrix<double>(random_matrix(batch, n, s).cast<float>().cast<double>());
  };
  const Matrix<double> x = rnd(1), v = rnd(2), a = rnd(3), b = rnd(4);
  Matrix<double> y(batch, n), yd(batch, n), xb(batch, n), vb(batch, n);
  Matrix<float> yf(batch, n), ydf(batch, n), xbf(batch, n), vbf(batch, n);
  std::vector<double> g(p.size(), 0);
  std::vector<float> gf(p.size(), 0);
  auto rel = [](const auto& got, const Matrix<double>& want) {
    return (got.template cast<double>() - want).cwiseAbs().maxCoeff() / want.cwiseAbs().maxCoeff();
  };
  auto relv = [](const std::vector<float>& got, const std::vector<double>& want) {
    double e = 0, s = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      e = std::max(e, std::abs(got[i] - want[i]));
      s = std::max(s, std::abs(want[i]));
    }
    return e / s;
  };
  const double tol = 1e-5;
  fwd(d, 0, x, y);
  fwd(f, 0, x.cast<float>(), yf);
  EXPECT_LT(rel(yf, y), tol);
  bwd(d, a, xb, g.data(), nullptr);
  bwd(f, a.cast<float>(), xbf, gf.data(), nullptr);
  EXPECT_LT(rel(xbf, xb), tol);
  EXPECT_LT(relv(gf, g), tol);
  std::fill(g.begin(), g.end(), 0.0);
  std::fill(gf.begin(), gf.end(), 0.0f);
  tfwd(d, 0, x, v, y, yd);
  tfwd(f, 0, x.cast<float>(), v.cast<float>(), yf, ydf);
  EXPECT_LT(rel(ydf, yd), tol);
  tbwd(d, a, b, xb, vb, g.data(), nullptr);
  tbwd(f, a.cast<float>(), b.cast<float>(), xbf, vbf, gf.data(), nullptr);
  EXPECT_LT(rel(xbf, xb), tol);
  EXPECT_LT(rel(vbf, vb), tol);
  EXPECT_LT(relv(gf, g), tol);
}

TEST(GroupNorm, NoAllocationAfterFirstCallAtFixedBatch) {
  if (!alloc_count::is_live()) GTEST_SKIP() << "allocation counter not active (sanitizer build?)";
  GroupNorm<float> gn({.num_groups = 4, .num_channels = 8, .height = 3, .width = 3});
  std::vector<float> p(static_cast<std::size_t>(gn.num_params()), 1.0f), g(p.size(), 0.0f);
  gn.bind(p.data());
  const Index n = gn.in_features();
  Matrix<float> x = random_matrix(6, n, 1).cast<float>(), y(6, n), yd(6, n), xb(6, n), vb(6, n);
  auto all = [&] {
    fwd(gn, 0, x, y);
    bwd(gn, y, xb, g.data(), nullptr);
    tfwd(gn, 0, x, x, y, yd);
    tbwd(gn, y, yd, xb, vb, g.data(), nullptr);
  };
  all();
  EXPECT_EQ(alloc_count::count(all), 0);
}

TEST(GroupNorm, RejectsBadShapesNamingThem) {
  auto expect_invalid = [](auto&& f, std::initializer_list<const char*> fragments) {
    try {
      f();
      ADD_FAILURE() << "no InvalidArgument thrown";
    } catch (const InvalidArgument& e) {
      for (const char* frag : fragments) {
        EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
            << "message '" << e.what() << "' lacks '" << frag << "'";
      }
    }
  };
  expect_invalid(
      [] { GroupNorm<float>({.num_groups = 4, .num_channels = 6, .height = 2, .width = 2}); },
      {"GroupNorm", "num_channels = 6", "num_groups = 4"});
  expect_invalid(
      [] { GroupNorm<float>({.num_groups = 0, .num_channels = 6, .height = 2, .width = 2}); },
      {"num_groups = 0"});
  expect_invalid(
      [] {
        GroupNorm<double>({.num_groups = 1, .num_channels = 2, .eps = 0, .height = 2, .width = 2});
      },
      {"eps"});
  expect_invalid([] { GroupNorm<double>({.num_groups = 1, .num_channels = 2, .width = 2}); },
                 {"height = 0"});
  GroupNorm<double> gn({.num_groups = 1, .num_channels = 2, .height = 2, .width = 2});
  Matrix<double> x(2, 7), y(2, 8);
  expect_invalid([&] { fwd(gn, 0, x, y); }, {"x is 2 x 7", "expected batch x 8"});
}

}  // namespace
}  // namespace neuralode::nn
