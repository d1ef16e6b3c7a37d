// Per-row time: every registered layer (and LayerField, and System's default) accepts one time per
// row. With every row at one t the results are the shared-time call's, bit for bit; with distinct
// times each row equals that row evaluated alone at its t; the per-row dL/dt_r matches central
// differences (double).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "neuralode/nn.hpp"
#include "neuralode/ode/system.hpp"
#include "nn/layer_calls.hpp"  // cv, mv

namespace neuralode::nn {
namespace {

// Five rows: two share a time (a run), the others fall in different pieces of PiecewiseConstant's
// registered grid (steps of 0.25), each at least 0.1 from a grid point (finite differences of
// h = 1e-6 never cross one).
constexpr Index kB = 5;
constexpr double kTimes[kB] = {0.1, 0.35, 0.35, 0.6, 0.85};

template <class S>
struct Call {
  Matrix<S> y, x_bar;
  std::vector<S> g, t_bar;  // t_bar: one entry (shared t) or one per row
};

template <class S>
struct Setup {
  std::unique_ptr<Layer<S>> layer;
  std::vector<S> p;
  Matrix<S> x, a;
  Index in = 0, out = 0;

  explicit Setup(const LayerEntry& e) : layer(e.make<S>()) {
    in = layer->in_features();
    out = layer->out_features();
    p.resize(static_cast<std::size_t>(layer->num_params()));
    init_default(std::span<S>(p), layer->param_specs(), 8);
    layer->bind(p.data());
    Rng rng(12);
    x.resize(kB, in);
    a.resize(kB, out);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<S>(rng.uniform(-1, 1));
    for (Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<S>(rng.uniform(-1, 1));
  }
  // forward + backward on rows [r0, r0 + n) at t (shared or per-row), t_bar wanted or not.
  Call<S> run(Time<S> t, Index r0, Index n, bool want_t_bar) {
    Call<S> c{Matrix<S>(n, out), Matrix<S>(n, in), std::vector<S>(p.size(), S(0)),
              std::vector<S>(t.per_row() ? n : 1, S(0))};
    std::vector<S> ctx(static_cast<std::size_t>(std::max<Index>(layer->context_size(n), 1)));
    const ConstMatrixView<S> xs(x.data() + r0 * in, n, in), as(a.data() + r0 * out, n, out);
    layer->forward(t, xs, mv(c.y), ctx.data());
    layer->backward(t, xs, ctx.data(), as, mv(c.x_bar), c.g.data(),
                    want_t_bar ? c.t_bar.data() : nullptr);
    return c;
  }
};

template <class S>
double max_abs_diff(const Matrix<S>& a, const Matrix<S>& b) {
  return (a - b).template cast<double>().cwiseAbs().maxCoeff();
}
template <class S>
double max_abs_diff(const std::vector<S>& a, const std::vector<S>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return m;
}

// Every row at one t: per-row times give the shared-time bits (y; x_bar and theta_bar when t_bar
// is not wanted), and the per-row t_bar sums to the shared t_bar within rounding.
template <class S>
void check_uniform(const LayerEntry& e) {
  Setup<S> s(e);
  const std::vector<S> same(kB, S(0.4));
  const Call<S> shared = s.run(S(0.4), 0, kB, true);
  const Call<S> rows = s.run(Time<S>(std::span<const S>(same)), 0, kB, false);
  EXPECT_EQ(rows.y, shared.y) << e.name;
  EXPECT_EQ(rows.x_bar, shared.x_bar) << e.name;
  EXPECT_EQ(rows.g, shared.g) << e.name;
  const Call<S> with_t = s.run(Time<S>(std::span<const S>(same)), 0, kB, true);
  EXPECT_EQ(with_t.y, shared.y) << e.name;
  double sum = 0;
  for (S v : with_t.t_bar) sum += static_cast<double>(v);
  // Different summation orders of O(1) terms over a handful of rows and features.
  const double tol = std::is_same_v<S, float> ? 1e-4 : 1e-12;
  EXPECT_NEAR(sum, static_cast<double>(shared.t_bar[0]), tol) << e.name;
  EXPECT_LT(max_abs_diff(with_t.x_bar, shared.x_bar), tol) << e.name;
  EXPECT_LT(max_abs_diff(with_t.g, shared.g), tol) << e.name;
}

// Distinct times: row r of a per-row call equals row r alone at t_r. Bitwise only where the
// arithmetic is the same: the products behind Linear and convolutions may block a batch of 5
// differently from a batch of 1, so the bound is a few ulps of O(1) values.
template <class S>
void check_distinct(const LayerEntry& e) {
  Setup<S> s(e);
  std::vector<S> t(kB);
  for (Index r = 0; r < kB; ++r) t[static_cast<std::size_t>(r)] = static_cast<S>(kTimes[r]);
  const Call<S> rows = s.run(Time<S>(std::span<const S>(t)), 0, kB, true);
  std::vector<S> g_sum(s.p.size(), S(0));
  const double tol = std::is_same_v<S, float> ? 1e-5 : 1e-13;
  for (Index r = 0; r < kB; ++r) {
    const Call<S> alone = s.run(t[static_cast<std::size_t>(r)], r, 1, true);
    EXPECT_LT(max_abs_diff(Matrix<S>(rows.y.row(r)), alone.y), tol) << e.name << " row " << r;
    EXPECT_LT(max_abs_diff(Matrix<S>(rows.x_bar.row(r)), alone.x_bar), tol)
        << e.name << " row " << r;
    EXPECT_NEAR(static_cast<double>(rows.t_bar[static_cast<std::size_t>(r)]),
                static_cast<double>(alone.t_bar[0]), tol)
        << e.name << " t_bar row " << r;
    for (std::size_t i = 0; i < g_sum.size(); ++i) g_sum[i] += alone.g[i];
  }
  EXPECT_LT(max_abs_diff(rows.g, g_sum), 10 * tol) << e.name;
}

// dL/dt_r, L = <a, y>, against central differences in t_r alone (h = 1e-6: error ~1e-10 for O(1)
// smooth functions, see GradcheckOptions::h; 1e-7 leaves a margin).
void check_t_bar_fd(const LayerEntry& e) {
  Setup<double> s(e);
  std::vector<double> t(kTimes, kTimes + kB);
  const Call<double> c = s.run(Time<double>(std::span<const double>(t)), 0, kB, true);
  auto loss = [&] {
    Matrix<double> y(kB, s.out);
    s.layer->forward(Time<double>(std::span<const double>(t)), cv(s.x), mv(y), nullptr);
    return (y.array() * s.a.array()).sum();
  };
  const double h = 1e-6;
  for (Index r = 0; r < kB; ++r) {
    const double keep = t[static_cast<std::size_t>(r)];
    t[static_cast<std::size_t>(r)] = keep + h;
    const double lp = loss();
    t[static_cast<std::size_t>(r)] = keep - h;
    const double lm = loss();
    t[static_cast<std::size_t>(r)] = keep;
    EXPECT_NEAR(c.t_bar[static_cast<std::size_t>(r)], (lp - lm) / (2 * h), 1e-7)
        << e.name << " row " << r;
  }
}

TEST(PerRowTime, EveryRegisteredLayerUniformTimesGiveSharedBitsDouble) {
  for (const auto& e : layer_registry()) check_uniform<double>(e);
}
TEST(PerRowTime, EveryRegisteredLayerUniformTimesGiveSharedBitsFloat) {
  for (const auto& e : layer_registry()) check_uniform<float>(e);
}
TEST(PerRowTime, EveryRegisteredLayerRowsEqualRowsAloneDouble) {
  for (const auto& e : layer_registry()) check_distinct<double>(e);
}
TEST(PerRowTime, EveryRegisteredLayerRowsEqualRowsAloneFloat) {
  for (const auto& e : layer_registry()) check_distinct<float>(e);
}
TEST(PerRowTime, EveryRegisteredLayerPerRowTimeGradientMatchesFiniteDifferences) {
  for (const auto& e : layer_registry()) check_t_bar_fd(e);
}

// LayerField: forward_per_row / vjp_per_row with every row at one t are forward / vjp bit for
// bit (t_bar per row summing to the shared one), through a time-dependent field.
template <class S>
void check_field() {
  auto net = std::make_unique<Sequential<S>>(std::make_unique<ConcatLinear<S>>(2, 8),
                                             std::make_unique<Activation<S>>(ActivationFn::tanh, 8),
                                             std::make_unique<ConcatSquashLinear<S>>(8, 2));
  LayerField<S> field(std::move(net));
  init_default(field, 3);
  Matrix<S> x(kB, 2), a(kB, 2), f1(kB, 2), f2(kB, 2), xb1(kB, 2), xb2(kB, 2);
  Rng rng(4);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<S>(rng.uniform(-1, 1));
  for (Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<S>(rng.uniform(-1, 1));
  const std::vector<S> same(kB, S(0.7));
  field.forward(S(0.7), cv(x), mv(f1));
  field.forward_per_row(same, cv(x), mv(f2));
  EXPECT_EQ(f1, f2);
  field.rhs_per_row(same, cv(x), mv(f2));
  EXPECT_EQ(f1, f2);
  std::vector<S> g1(static_cast<std::size_t>(field.num_params()), S(0)), g2 = g1;
  S tb1 = 0;
  std::vector<S> tb2(kB, S(0));
  field.vjp(S(0.7), cv(x), cv(a), f1.data(), mv(xb1), g1.data(), &tb1);
  field.vjp_per_row(same, cv(x), cv(a), f2.data(), mv(xb2), g2.data(), tb2.data());
  EXPECT_EQ(f1, f2);
  EXPECT_EQ(xb1, xb2);
  EXPECT_EQ(g1, g2);
  double sum = 0;
  for (S v : tb2) sum += static_cast<double>(v);
  const double tol = std::is_same_v<S, float> ? 1e-4 : 1e-12;
  EXPECT_NEAR(sum, static_cast<double>(tb1), tol);
  // The per-row length is checked at the boundary.
  const std::vector<S> short_t(kB - 1, S(0.7));
  EXPECT_THROW(field.forward_per_row(short_t, cv(x), mv(f2)), InvalidArgument);
}

TEST(PerRowTime, LayerFieldUniformTimesGiveSharedBitsDouble) {
  check_field<double>();
}
TEST(PerRowTime, LayerFieldUniformTimesGiveSharedBitsFloat) {
  check_field<float>();
}

// The tangent passes with per-row times, through the same time-dependent field (every layer a
// TangentLayer): uniform times give jvp / jvp_vjp's bits; distinct times give each row as if
// alone at its t (the rows agree to rounding of the batched products: a few ulps, bounded here by
// 64 eps relative to the magnitudes, which are O(1)); VectorField's default (run by run through
// jvp / jvp_vjp) agrees with LayerField's one-call implementation; t_bar per row against central
// differences.
template <class S>
std::unique_ptr<LayerField<S>> tangent_field() {
  auto net = std::make_unique<Sequential<S>>(std::make_unique<ConcatLinear<S>>(2, 8),
                                             std::make_unique<Activation<S>>(ActivationFn::tanh, 8),
                                             std::make_unique<ConcatSquashLinear<S>>(8, 2));
  auto field = std::make_unique<LayerField<S>>(std::move(net));
  init_default(*field, 3);
  return field;
}

// Forwards the scalar-time calls to a LayerField and keeps VectorField's per-row defaults.
template <class S>
class DefaultPerRow final : public VectorField<S> {
 public:
  explicit DefaultPerRow(LayerField<S>& f) : f_(f) {}
  Index dim() const override { return f_.dim(); }
  Index num_params() const override { return f_.num_params(); }
  std::span<S> params() override { return f_.params(); }
  std::span<const S> params() const override { return std::as_const(f_).params(); }
  std::vector<ParamView> param_views() const override { return f_.param_views(); }
  void forward(S t, ConstMatrixView<S> x, MatrixView<S> f) override { f_.forward(t, x, f); }
  void vjp(S t, ConstMatrixView<S> x, ConstMatrixView<S> a, S* f_out, MatrixView<S> x_bar,
           S* theta_bar, S* t_bar) override {
    f_.vjp(t, x, a, f_out, x_bar, theta_bar, t_bar);
  }
  void jvp(S t, ConstMatrixView<S> x, ConstMatrixView<S> v, MatrixView<S> f,
           MatrixView<S> jv) override {
    f_.jvp(t, x, v, f, jv);
  }
  void jvp_vjp(S t, ConstMatrixView<S> x, ConstMatrixView<S> v, ConstMatrixView<S> f_bar,
               ConstMatrixView<S> jv_bar, MatrixView<S> x_bar, MatrixView<S> v_bar, S* theta_bar,
               S* t_bar) override {
    f_.jvp_vjp(t, x, v, f_bar, jv_bar, x_bar, v_bar, theta_bar, t_bar);
  }

 private:
  LayerField<S>& f_;
};

template <class S>
Matrix<S> random_rows(Index rows, Index cols, std::uint64_t seed) {
  Matrix<S> m(rows, cols);
  Rng rng(seed);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<S>(rng.uniform(-1, 1));
  return m;
}

template <class S>
double ulps_bound(double reference) {
  return 64 * static_cast<double>(std::numeric_limits<S>::epsilon()) * (1 + std::abs(reference));
}

template <class S>
void expect_close(const Matrix<S>& a, const Matrix<S>& b, const char* what) {
  ASSERT_EQ(a.rows(), b.rows());
  for (Index i = 0; i < a.size(); ++i) {
    const double ref = static_cast<double>(b.data()[i]);
    EXPECT_NEAR(static_cast<double>(a.data()[i]), ref, ulps_bound<S>(ref))
        << what << " entry " << i;
  }
}

template <class S>
void check_field_tangent_uniform() {
  auto field = tangent_field<S>();
  const Matrix<S> x = random_rows<S>(kB, 2, 4), v = random_rows<S>(kB, 2, 5),
                  fb = random_rows<S>(kB, 2, 6), jb = random_rows<S>(kB, 2, 7);
  Matrix<S> f1(kB, 2), f2(kB, 2), j1(kB, 2), j2(kB, 2);
  const std::vector<S> same(kB, S(0.7));
  field->jvp(S(0.7), cv(x), cv(v), mv(f1), mv(j1));
  field->jvp_per_row(same, cv(x), cv(v), mv(f2), mv(j2));
  EXPECT_EQ(f1, f2);
  EXPECT_EQ(j1, j2);
  Matrix<S> xb1(kB, 2), xb2(kB, 2), vb1(kB, 2), vb2(kB, 2);
  std::vector<S> g1(static_cast<std::size_t>(field->num_params()), S(0)), g2 = g1;
  S tb1 = 0;
  std::vector<S> tb2(kB, S(0));
  field->jvp_vjp(S(0.7), cv(x), cv(v), cv(fb), cv(jb), mv(xb1), mv(vb1), g1.data(), &tb1);
  field->jvp_vjp_per_row(same, cv(x), cv(v), cv(fb), cv(jb), mv(xb2), mv(vb2), g2.data(),
                         tb2.data());
  EXPECT_EQ(xb1, xb2);
  EXPECT_EQ(vb1, vb2);
  EXPECT_EQ(g1, g2);
  double sum = 0;
  for (S t : tb2) sum += static_cast<double>(t);
  // The per-row entries are the shared t_bar's summands, added in another order.
  const double tol = std::is_same_v<S, float> ? 1e-4 : 1e-12;
  EXPECT_NEAR(sum, static_cast<double>(tb1), tol);
}

template <class S>
void check_field_tangent_distinct() {
  auto field = tangent_field<S>();
  DefaultPerRow<S> by_runs(*field);
  const Matrix<S> x = random_rows<S>(kB, 2, 4), v = random_rows<S>(kB, 2, 5),
                  fb = random_rows<S>(kB, 2, 6), jb = random_rows<S>(kB, 2, 7);
  std::vector<S> t(kB);
  for (Index r = 0; r < kB; ++r) t[static_cast<std::size_t>(r)] = static_cast<S>(kTimes[r]);
  Matrix<S> f(kB, 2), jv(kB, 2), f_runs(kB, 2), jv_runs(kB, 2);
  field->jvp_per_row(t, cv(x), cv(v), mv(f), mv(jv));
  by_runs.jvp_per_row(t, cv(x), cv(v), mv(f_runs), mv(jv_runs));
  expect_close(f, f_runs, "f");
  expect_close(jv, jv_runs, "jv");
  Matrix<S> xb(kB, 2), vb(kB, 2), xb_runs(kB, 2), vb_runs(kB, 2);
  std::vector<S> tb(kB, S(0)), tb_runs(kB, S(0));
  field->jvp_vjp_per_row(t, cv(x), cv(v), cv(fb), cv(jb), mv(xb), mv(vb), nullptr, tb.data());
  by_runs.jvp_vjp_per_row(t, cv(x), cv(v), cv(fb), cv(jb), mv(xb_runs), mv(vb_runs), nullptr,
                          tb_runs.data());
  expect_close(xb, xb_runs, "x_bar");
  expect_close(vb, vb_runs, "v_bar");
  for (Index r = 0; r < kB; ++r) {
    const auto ri = static_cast<std::size_t>(r);
    const Matrix<S> xr = x.row(r), vr = v.row(r);
    Matrix<S> fr(1, 2), jr(1, 2);
    field->jvp(t[ri], cv(xr), cv(vr), mv(fr), mv(jr));
    expect_close(Matrix<S>(f.row(r)), fr, "f row alone");
    expect_close(Matrix<S>(jv.row(r)), jr, "jv row alone");
    const double ref = static_cast<double>(tb_runs[ri]);
    EXPECT_NEAR(static_cast<double>(tb[ri]), ref, ulps_bound<S>(ref)) << "t_bar row " << r;
  }
}

TEST(PerRowTime, LayerFieldTangentUniformTimesGiveSharedBitsDouble) {
  check_field_tangent_uniform<double>();
}
TEST(PerRowTime, LayerFieldTangentUniformTimesGiveSharedBitsFloat) {
  check_field_tangent_uniform<float>();
}
TEST(PerRowTime, LayerFieldTangentRowsEqualRowsAloneDouble) {
  check_field_tangent_distinct<double>();
}
TEST(PerRowTime, LayerFieldTangentRowsEqualRowsAloneFloat) {
  check_field_tangent_distinct<float>();
}

// d/dt_r of <f_bar, f> + <jv_bar, jv> for row r against central differences in double. With
// h = 1e-6 the truncation error (h^2/6 times a third derivative of order 1) is ~1e-13 and the
// rounding error ~eps |L| / h ~ 1e-10; 1e-7 leaves a margin of 1000 over both.
TEST(PerRowTime, LayerFieldTangentTimeGradientMatchesFiniteDifferences) {
  auto field = tangent_field<double>();
  const Matrix<double> x = random_rows<double>(kB, 2, 4), v = random_rows<double>(kB, 2, 5),
                       fb = random_rows<double>(kB, 2, 6), jb = random_rows<double>(kB, 2, 7);
  std::vector<double> t(kTimes, kTimes + kB), tb(kB, 0.0);
  Matrix<double> xb(kB, 2), vb(kB, 2), f(kB, 2), jv(kB, 2);
  field->jvp_vjp_per_row(t, cv(x), cv(v), cv(fb), cv(jb), mv(xb), mv(vb), nullptr, tb.data());
  const auto objective = [&](const std::vector<double>& times) {
    field->jvp_per_row(times, cv(x), cv(v), mv(f), mv(jv));
    return (fb.array() * f.array()).sum() + (jb.array() * jv.array()).sum();
  };
  // The time terms matter here (ConcatLinear and ConcatSquashLinear take t), so the check bites.
  EXPECT_GT(std::abs(tb[0]) + std::abs(tb[kB - 1]), 1e-3);
  const double h = 1e-6;
  for (Index r = 0; r < kB; ++r) {
    std::vector<double> up = t, down = t;
    up[static_cast<std::size_t>(r)] += h;
    down[static_cast<std::size_t>(r)] -= h;
    const double fd = (objective(up) - objective(down)) / (2 * h);
    EXPECT_NEAR(tb[static_cast<std::size_t>(r)], fd, 1e-7) << "row " << r;
  }
}

// System's default rhs_per_row runs rhs on each run of rows sharing a time: any System accepts
// per-row times, each row as if evaluated alone (bitwise for this row-wise f).
TEST(PerRowTime, SystemDefaultEvaluatesRowBlocksOfEqualTime) {
  auto f = [](double t, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy = -t * y + Matrix<double>::Constant(y.rows(), y.cols(), t * t);
  };
  ode::FunctionSystem<double, decltype(f)> sys(f);
  Matrix<double> y(kB, 3), dy(kB, 3), one(1, 3);
  for (Index i = 0; i < y.size(); ++i) y.data()[i] = 0.1 * static_cast<double>(i) - 0.7;
  const std::vector<double> t(kTimes, kTimes + kB);
  sys.rhs_per_row(t, cv(y), mv(dy));
  for (Index r = 0; r < kB; ++r) {
    const Matrix<double> yr = y.row(r);
    sys.rhs(kTimes[r], cv(yr), mv(one));
    EXPECT_EQ(Matrix<double>(dy.row(r)), one) << "row " << r;
  }
}

}  // namespace
}  // namespace neuralode::nn
