// float builds and runs: every registered layer's products in float agree with the same layer in
// double (same parameters and inputs, rounded to float).
//
// Tolerance: a float result carries relative rounding ~ k * eps_f with eps_f = 6e-8 and k the
// number of roundings along its longest dependency chain: a dot product of n terms adds ~n (here
// n <= 6 for the registry's instances, <= 32 for the MLP field), each elementwise function a few
// ulps, and the reverse passes roughly double the chain. For the registry that is <= ~50 roundings,
// i.e. 3e-6 relative to the largest entry; we allow 1e-5. For the 8-32-32-8 field, chains reach
// ~3 * 32 * 2 = 200 roundings, 1.2e-5; we allow 5e-5. A float code path that computes the wrong
// thing (a truncated constant, a double-only branch) misses these by orders of magnitude.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "neuralode/nn.hpp"
#include "nn/nn_test_fields.hpp"

namespace neuralode::nn {
namespace {

// Runs forward, backward, forward_tangent and backward_tangent on layer (bound to params) and
// returns every output concatenated, in double.
template <class S>
std::vector<double> all_products(Layer<S>& layer, std::vector<S>& params, const Matrix<double>& xd,
                                 const Matrix<double>& vd, const Matrix<double>& ad, double td) {
  const Index b = xd.rows(), in = layer.in_features(), out = layer.out_features();
  layer.bind(params.data());
  const Matrix<S> x = xd.cast<S>(), v = vd.cast<S>(), a = ad.cast<S>();
  Matrix<S> y(b, out), xb(b, in), yd(b, out), y2(b, out), xb2(b, in), vb(b, in);
  std::vector<S> g(params.size(), S(0)), g2(params.size(), S(0));
  S tb = 0, tb2 = 0;
  const S t = static_cast<S>(td);
  using CV = ConstMatrixView<S>;
  using MV = MatrixView<S>;
  auto* tangent = layer.tangent();
  std::vector<S> ctx(static_cast<std::size_t>(layer.context_size(b) + 1)),
      tctx(static_cast<std::size_t>(tangent->tangent_context_size(b) + 1));
  layer.forward(t, CV(x.data(), b, in), MV(y.data(), b, out), ctx.data());
  layer.backward(t, CV(x.data(), b, in), ctx.data(), CV(a.data(), b, out), MV(xb.data(), b, in),
                 g.data(), &tb);
  tangent->forward_tangent(t, CV(x.data(), b, in), CV(v.data(), b, in), MV(y2.data(), b, out),
                           MV(yd.data(), b, out), tctx.data());
  tangent->backward_tangent(t, CV(x.data(), b, in), CV(v.data(), b, in), tctx.data(),
                            CV(a.data(), b, out), CV(a.data(), b, out), MV(xb2.data(), b, in),
                            MV(vb.data(), b, in), g2.data(), &tb2);
  std::vector<double> all;
  for (const Matrix<S>* m : {&y, &xb, &yd, &y2, &xb2, &vb}) {
    for (Index i = 0; i < m->size(); ++i) all.push_back(static_cast<double>(m->data()[i]));
  }
  for (auto s : g) all.push_back(s);
  for (auto s : g2) all.push_back(s);
  all.push_back(tb);
  all.push_back(tb2);
  return all;
}

double relative_difference(const std::vector<double>& f, const std::vector<double>& d) {
  double num = 0, scale = 1;
  for (std::size_t i = 0; i < f.size(); ++i) {
    num = std::max(num, std::abs(f[i] - d[i]));
    scale = std::max(scale, std::abs(d[i]));
  }
  return num / scale;
}

template <class MakeD, class MakeF>
double float_vs_double(MakeD make_double, MakeF make_float, Index batch, std::uint64_t seed) {
  auto ld = make_double();
  auto lf = make_float();
  std::vector<double> pd(static_cast<std::size_t>(ld->num_params()));
  init_default(std::span<double>(pd), ld->param_specs(), seed);
  // Round the parameters to float first so both run on the same numbers.
  std::vector<float> pf(pd.begin(), pd.end());
  std::copy(pf.begin(), pf.end(), pd.begin());
  Rng rng(seed);
  auto rnd = [&](Index r, Index c) {
    Matrix<double> m(r, c);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    return m;
  };
  const auto x = rnd(batch, ld->in_features()), v = rnd(batch, ld->in_features());
  const auto a = rnd(batch, ld->out_features());
  const double t = static_cast<float>(rng.uniform(0.1, 0.9));
  return relative_difference(all_products<float>(*lf, pf, x, v, a, t),
                             all_products<double>(*ld, pd, x, v, a, t));
}

TEST(FloatPrecision, EveryRegisteredLayerAgreesWithDouble) {
  for (const auto& e : layer_registry()) {
    const double diff = float_vs_double(e.make_double, e.make_float, 5, 3);
    EXPECT_LT(diff, 1e-5) << e.name;
  }
}

TEST(FloatPrecision, ConcatMlpFieldAgreesWithDouble) {
  const double diff = float_vs_double([] { return testing::concat_mlp<double>(8, 32); },
                                      [] { return testing::concat_mlp<float>(8, 32); }, 16, 5);
  EXPECT_LT(diff, 5e-5);
}

}  // namespace
}  // namespace neuralode::nn
