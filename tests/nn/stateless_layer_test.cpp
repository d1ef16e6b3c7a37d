// Stateless layers: the same layer object runs any number of times in one graph, each call with
// its own caller-owned context, with exact gradients (an RNN-style loop against central finite
// differences), and every registered layer gives, through interleaved contexts, exactly the bits
// of a fresh forward and backward (float and double).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "neuralode/nn.hpp"
#include "nn/layer_calls.hpp"  // cv, mv

namespace neuralode::nn {
namespace {

// Contexts at Eigen's packet alignment: element-wise functions with a vectorised and a scalar
// implementation (logistic, exp, ...) peel an unaligned head onto the scalar one, so buffers at
// different alignments may differ in the last bit; the comparisons below are about state, not
// alignment, so every context gets the same.
template <class S>
using Ctx = std::vector<S, Eigen::aligned_allocator<S>>;
template <class S>
Ctx<S> context_for(const Layer<S>& l, Index batch) {
  return Ctx<S>(static_cast<std::size_t>(std::max<Index>(l.context_size(batch), 1)));
}

// ---- RNN: h_{k+1} = tanh(W [h_k; u_k] + b), k = 0..T-1, L = <c, h_T> ---------------------------
// One Linear(H + U -> H) and one Tanh object serve all T steps (or one Sequential cell of the
// two); the caller keeps every step's input z_k = [h_k; u_k], pre-activation and context.
constexpr Index kH = 3, kU = 2, kT = 20, kB = 2;

struct Rnn {
  explicit Rnn(bool as_sequential) {
    if (as_sequential) {
      cell = std::make_unique<Sequential<double>>(
          std::make_unique<Linear<double>>(kH + kU, kH),
          std::make_unique<Activation<double>>(ActivationFn::tanh, kH));
    } else {
      lin = std::make_unique<Linear<double>>(kH + kU, kH);
      act = std::make_unique<Activation<double>>(ActivationFn::tanh, kH);
    }
    Layer<double>& p = cell ? static_cast<Layer<double>&>(*cell) : *lin;
    theta.resize(static_cast<std::size_t>(p.num_params()));
    Rng rng(3);
    // W = [W_h | W_u] (out x in, row-major), then b: W_h a cyclic permutation (orthogonal, so the
    // Jacobian product over 20 steps neither vanishes nor explodes while tanh' stays near 1),
    // W_u and b small and random.
    for (double& v : theta) v = rng.uniform(-0.3, 0.3);
    for (Index o = 0; o < kH; ++o) {
      for (Index i = 0; i < kH; ++i)
        theta[static_cast<std::size_t>(o * (kH + kU) + i)] = i == (o + 1) % kH ? 1.0 : 0.0;
    }
    p.bind(theta.data());
    h0 = Matrix<double>(kB, kH);
    for (Index i = 0; i < h0.size(); ++i) h0.data()[i] = rng.uniform(-1, 1);
    for (Index k = 0; k < kT; ++k) {
      Matrix<double> u(kB, kU);
      for (Index i = 0; i < u.size(); ++i) u.data()[i] = rng.uniform(-0.3, 0.3);
      inputs.push_back(u);
    }
    c = Matrix<double>(kB, kH);
    for (Index i = 0; i < c.size(); ++i) c.data()[i] = rng.uniform(-1, 1);
  }

  // L and, if grads, dL/dtheta and dL/dh0 by the reverse loop.
  double run(std::vector<double>* theta_bar, Matrix<double>* h0_bar) {
    std::vector<Matrix<double>> z(kT, Matrix<double>(kB, kH + kU)), pre(kT, Matrix<double>(kB, kH));
    std::vector<Ctx<double>> ctx_a, ctx_b;
    Matrix<double> h = h0;
    for (Index k = 0; k < kT; ++k) {
      z[k] << h, inputs[k];
      if (cell) {
        ctx_a.push_back(context_for(*cell, kB));
        cell->forward(0.0, cv(z[k]), mv(h), ctx_a.back().data());
      } else {
        ctx_a.push_back(context_for(*lin, kB));
        ctx_b.push_back(context_for(*act, kB));
        lin->forward(0.0, cv(z[k]), mv(pre[k]), ctx_a.back().data());
        act->forward(0.0, cv(pre[k]), mv(h), ctx_b.back().data());
      }
    }
    const double loss = (c.array() * h.array()).sum();
    if (!theta_bar) return loss;
    theta_bar->assign(theta.size(), 0.0);
    Matrix<double> a = c, pre_bar(kB, kH), z_bar(kB, kH + kU);
    for (Index k = kT; k-- > 0;) {
      if (cell) {
        cell->backward(0.0, cv(z[k]), ctx_a[k].data(), cv(a), mv(z_bar), theta_bar->data(),
                       nullptr);
      } else {
        act->backward(0.0, cv(pre[k]), ctx_b[k].data(), cv(a), mv(pre_bar), nullptr, nullptr);
        lin->backward(0.0, cv(z[k]), ctx_a[k].data(), cv(pre_bar), mv(z_bar), theta_bar->data(),
                      nullptr);
      }
      a = z_bar.leftCols(kH);
    }
    *h0_bar = a;
    return loss;
  }

  std::unique_ptr<Sequential<double>> cell;
  std::unique_ptr<Linear<double>> lin;
  std::unique_ptr<Activation<double>> act;
  std::vector<double> theta;
  Matrix<double> h0, c;
  std::vector<Matrix<double>> inputs;
};

// Central differences with h = 1e-6: truncation h^2/6 |L'''| ~ 1e-13 and rounding
// eps |L| / h ~ 1e-10 for |L| ~ 1 (tanh keeps every h_k in (-1, 1), which keeps the derivatives
// bounded over the 20 steps). 1e-8 absolute leaves a margin of 100 over the rounding bound. Weights
// U(-1.5, 1.5) keep the Jacobian product over 20 steps from vanishing, so dL/dh0 is checked on
// values well above that bound.
void check_rnn(bool as_sequential) {
  Rnn rnn(as_sequential);
  std::vector<double> g;
  Matrix<double> gh0;
  rnn.run(&g, &gh0);
  const double h = 1e-6;
  for (std::size_t i = 0; i < rnn.theta.size(); ++i) {
    const double keep = rnn.theta[i];
    rnn.theta[i] = keep + h;
    const double lp = rnn.run(nullptr, nullptr);
    rnn.theta[i] = keep - h;
    const double lm = rnn.run(nullptr, nullptr);
    rnn.theta[i] = keep;
    EXPECT_NEAR(g[i], (lp - lm) / (2 * h), 1e-8) << "theta[" << i << "]";
  }
  for (Index i = 0; i < rnn.h0.size(); ++i) {
    const double keep = rnn.h0.data()[i];
    rnn.h0.data()[i] = keep + h;
    const double lp = rnn.run(nullptr, nullptr);
    rnn.h0.data()[i] = keep - h;
    const double lm = rnn.run(nullptr, nullptr);
    rnn.h0.data()[i] = keep;
    EXPECT_NEAR(gh0.data()[i], (lp - lm) / (2 * h), 1e-8) << "h0[" << i << "]";
  }
  // Not vacuous: dL/dh0 (through all 20 steps, ~6e-4 here) is 4 orders above the tolerance.
  EXPECT_GT(gh0.cwiseAbs().maxCoeff(), 1e-4);
}

TEST(StatelessLayer, RnnLoopOfOneLinearAndTanhMatchesFiniteDifferences) {
  check_rnn(false);
}
TEST(StatelessLayer, RnnLoopOfOneSequentialCellMatchesFiniteDifferences) {
  check_rnn(true);
}

// ---- Every registered layer: interleaved contexts give a fresh call's bits ---------------------
// Two forwards (inputs x1, x2, contexts c1, c2) and then the two backwards in reverse order must
// equal, bit for bit, a forward immediately followed by its backward, for each input: nothing of
// a call lives in the layer. The inference forward's output equals the training forward's. The
// same for the tangent passes.
template <class S>
void check_interleaved(const LayerEntry& e) {
  auto layer = e.make<S>();
  const Index in = layer->in_features(), out = layer->out_features(), b = 3;
  std::vector<S> p(static_cast<std::size_t>(layer->num_params()));
  init_default(std::span<S>(p), layer->param_specs(), 4);
  layer->bind(p.data());
  Rng rng(9);
  auto random = [&](Index r, Index c) {
    Matrix<S> m(r, c);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<S>(rng.uniform(-1, 1));
    return m;
  };
  const Matrix<S> x1 = random(b, in), x2 = random(b, in), v1 = random(b, in), v2 = random(b, in);
  const Matrix<S> a1 = random(b, out), a2 = random(b, out), d1 = random(b, out),
                  d2 = random(b, out);
  const S t1 = S(0.3), t2 = S(0.6);  // in different pieces of PiecewiseConstant's grid
  struct Out {
    Matrix<S> y, x_bar, y_dot, x_dot_bar;
    std::vector<S> g;
    S t_bar = 0;
  };
  auto fresh = [&](S t, const Matrix<S>& x, const Matrix<S>& a) {
    Out o{Matrix<S>(b, out), Matrix<S>(b, in), {}, {}, std::vector<S>(p.size(), S(0)), S(0)};
    auto ctx = context_for(*layer, b);
    layer->forward(t, cv(x), mv(o.y), ctx.data());
    layer->backward(t, cv(x), ctx.data(), cv(a), mv(o.x_bar), o.g.data(), &o.t_bar);
    return o;
  };
  const Out f1 = fresh(t1, x1, a1), f2 = fresh(t2, x2, a2);
  Out i1{Matrix<S>(b, out), Matrix<S>(b, in), {}, {}, std::vector<S>(p.size(), S(0)), S(0)};
  Out i2 = i1;
  auto c1 = context_for(*layer, b), c2 = context_for(*layer, b);
  layer->forward(t1, cv(x1), mv(i1.y), c1.data());
  layer->forward(t2, cv(x2), mv(i2.y), c2.data());
  Matrix<S> y_inf(b, out);
  layer->forward(t1, cv(x2), mv(y_inf), nullptr);  // an inference call in between changes nothing
  layer->backward(t2, cv(x2), c2.data(), cv(a2), mv(i2.x_bar), i2.g.data(), &i2.t_bar);
  layer->backward(t1, cv(x1), c1.data(), cv(a1), mv(i1.x_bar), i1.g.data(), &i1.t_bar);
  EXPECT_EQ(i1.y, f1.y) << e.name;
  EXPECT_EQ(i2.y, f2.y) << e.name;
  EXPECT_EQ(i1.x_bar, f1.x_bar) << e.name;
  EXPECT_EQ(i2.x_bar, f2.x_bar) << e.name;
  EXPECT_EQ(i1.g, f1.g) << e.name;
  EXPECT_EQ(i2.g, f2.g) << e.name;
  EXPECT_EQ(i1.t_bar, f1.t_bar) << e.name;
  EXPECT_EQ(i2.t_bar, f2.t_bar) << e.name;
  Matrix<S> y_train(b, out);
  auto c3 = context_for(*layer, b);
  layer->forward(t1, cv(x2), mv(y_train), c3.data());
  EXPECT_EQ(y_inf, y_train) << e.name << ": inference forward";

  auto* tangent = layer->tangent();
  ASSERT_NE(tangent, nullptr) << e.name;
  auto tcontext = [&] {
    return Ctx<S>(static_cast<std::size_t>(std::max<Index>(tangent->tangent_context_size(b), 1)));
  };
  auto tfresh = [&](S t, const Matrix<S>& x, const Matrix<S>& v, const Matrix<S>& a,
                    const Matrix<S>& d) {
    Out o{Matrix<S>(b, out),
          Matrix<S>(b, in),
          Matrix<S>(b, out),
          Matrix<S>(b, in),
          std::vector<S>(p.size(), S(0)),
          S(0)};
    auto ctx = tcontext();
    tangent->forward_tangent(t, cv(x), cv(v), mv(o.y), mv(o.y_dot), ctx.data());
    tangent->backward_tangent(t, cv(x), cv(v), ctx.data(), cv(a), cv(d), mv(o.x_bar),
                              mv(o.x_dot_bar), o.g.data(), &o.t_bar);
    return o;
  };
  const Out g1 = tfresh(t1, x1, v1, a1, d1), g2 = tfresh(t2, x2, v2, a2, d2);
  Out j1{Matrix<S>(b, out),
         Matrix<S>(b, in),
         Matrix<S>(b, out),
         Matrix<S>(b, in),
         std::vector<S>(p.size(), S(0)),
         S(0)};
  Out j2 = j1;
  auto tc1 = tcontext(), tc2 = tcontext();
  tangent->forward_tangent(t1, cv(x1), cv(v1), mv(j1.y), mv(j1.y_dot), tc1.data());
  tangent->forward_tangent(t2, cv(x2), cv(v2), mv(j2.y), mv(j2.y_dot), tc2.data());
  tangent->backward_tangent(t2, cv(x2), cv(v2), tc2.data(), cv(a2), cv(d2), mv(j2.x_bar),
                            mv(j2.x_dot_bar), j2.g.data(), &j2.t_bar);
  tangent->backward_tangent(t1, cv(x1), cv(v1), tc1.data(), cv(a1), cv(d1), mv(j1.x_bar),
                            mv(j1.x_dot_bar), j1.g.data(), &j1.t_bar);
  for (auto [j, g] : {std::pair{&j1, &g1}, std::pair{&j2, &g2}}) {
    EXPECT_EQ(j->y, g->y) << e.name << " tangent";
    EXPECT_EQ(j->y_dot, g->y_dot) << e.name << " tangent";
    EXPECT_EQ(j->x_bar, g->x_bar) << e.name << " tangent";
    EXPECT_EQ(j->x_dot_bar, g->x_dot_bar) << e.name << " tangent";
    EXPECT_EQ(j->g, g->g) << e.name << " tangent";
    EXPECT_EQ(j->t_bar, g->t_bar) << e.name << " tangent";
  }
  // The tangent pass's y is the forward's y (same arithmetic where the layer shares it; the
  // activations' tangent path evaluates sigma' and sigma'' together, so within rounding).
  const double tol = std::is_same_v<S, float> ? 1e-5 : 1e-13;
  EXPECT_LT((g1.y - f1.y).template cast<double>().cwiseAbs().maxCoeff(), tol) << e.name;
}

TEST(StatelessLayer, EveryRegisteredLayerInterleavedContextsGiveFreshBitsDouble) {
  for (const auto& e : layer_registry()) check_interleaved<double>(e);
}
TEST(StatelessLayer, EveryRegisteredLayerInterleavedContextsGiveFreshBitsFloat) {
  for (const auto& e : layer_registry()) check_interleaved<float>(e);
}

// The record a field keeps for direct backpropagation is its root's context: vjp_recorded on a
// record written by rhs_recorded equals vjp (forward and backward at once) bit for bit, for every
// registered layer that maps n -> n, float and double.
template <class S>
void check_record_equals_recompute(const LayerEntry& e) {
  auto layer = e.make<S>();
  if (layer->in_features() != layer->out_features()) return;
  LayerField<S> field(std::move(layer));
  init_default(field, 6);
  const Index b = 4, d = field.dim();
  Rng rng(2);
  Matrix<S> x(b, d), a(b, d), f1(b, d), f2(b, d), xb1(b, d), xb2(b, d);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<S>(rng.uniform(-1, 1));
  for (Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<S>(rng.uniform(-1, 1));
  std::vector<S> g1(static_cast<std::size_t>(field.num_params()), S(0)), g2 = g1;
  S tb1 = 0, tb2 = 0;
  const S t = S(0.4);
  ASSERT_GE(field.record_size(b), 0) << e.name;
  Ctx<S> record(static_cast<std::size_t>(field.record_size(b) + 1));
  field.rhs_recorded(t, cv(x), mv(f2), record.data());
  field.vjp(t, cv(x), cv(a), f1.data(), mv(xb1), g1.data(), &tb1);
  field.vjp_recorded(t, cv(x), cv(a), record.data(), mv(xb2), g2.data(), &tb2);
  EXPECT_EQ(f1, f2) << e.name;
  EXPECT_EQ(xb1, xb2) << e.name;
  EXPECT_EQ(g1, g2) << e.name;
  EXPECT_EQ(tb1, tb2) << e.name;
}

TEST(StatelessLayer, EveryRegisteredFieldRecordEqualsRecomputeDouble) {
  for (const auto& e : layer_registry()) check_record_equals_recompute<double>(e);
}
TEST(StatelessLayer, EveryRegisteredFieldRecordEqualsRecomputeFloat) {
  for (const auto& e : layer_registry()) check_record_equals_recompute<float>(e);
}

}  // namespace
}  // namespace neuralode::nn
