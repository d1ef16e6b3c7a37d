// gradcheck: central differences of the scalars phi = <a, f> (for the VJP) and
// psi = <f_bar, f> + <jv_bar, (df/dx) v> (for the VJP of the JVP), one coordinate at a time,
// against the analytic products. See gradcheck.hpp for the error measure.
// GCC 12 reports false "may be used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's packet math inlines them; nothing here is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "neuralode/nn/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "neuralode/nn/init.hpp"
#include "neuralode/nn/layer_field.hpp"

namespace neuralode::nn {
namespace {

using Mat = Matrix<double>;
using CView = ConstMatrixView<double>;
using View = MatrixView<double>;

CView cv(const Mat& m) {
  return CView(m.data(), m.rows(), m.cols());
}
View mv(Mat& m) {
  return View(m.data(), m.rows(), m.cols());
}

// What gradcheck needs of a layer or a field.
class Subject {
 public:
  virtual ~Subject() = default;
  virtual Index in() const = 0;
  virtual Index out() const = 0;
  virtual std::span<double> params() = 0;
  virtual void f(double t, const Mat& x, Mat& y) = 0;
  // Whether jvp and jvp_vjp exist (a layer without tangent passes is checked on the VJP only).
  virtual bool has_tangent() const = 0;
  virtual void vjp(double t, const Mat& x, const Mat& a, Mat& x_bar, double* theta_bar,
                   double* t_bar) = 0;
  virtual void jvp(double t, const Mat& x, const Mat& v, Mat& y, Mat& jv) = 0;
  virtual void jvp_vjp(double t, const Mat& x, const Mat& v, const Mat& fb, const Mat& jb,
                       Mat& x_bar, Mat& v_bar, double* theta_bar, double* t_bar) = 0;
};

class LayerSubject final : public Subject {
 public:
  LayerSubject(Layer<double>& l, std::span<double> p) : l_(l), p_(p) {}
  Index in() const override { return l_.in_features(); }
  Index out() const override { return l_.out_features(); }
  std::span<double> params() override { return p_; }
  void f(double t, const Mat& x, Mat& y) override { l_.forward(t, cv(x), mv(y), nullptr); }
  bool has_tangent() const override { return tangent_ != nullptr; }
  void vjp(double t, const Mat& x, const Mat& a, Mat& x_bar, double* tb, double* t_bar) override {
    Mat y(x.rows(), out());
    ctx_.assign(static_cast<std::size_t>(std::max<Index>(l_.context_size(x.rows()), 1)), 0.0);
    l_.forward(t, cv(x), mv(y), ctx_.data());
    l_.backward(t, cv(x), ctx_.data(), cv(a), mv(x_bar), tb, t_bar);
  }
  void jvp(double t, const Mat& x, const Mat& v, Mat& y, Mat& jv) override {
    tctx_.assign(
        static_cast<std::size_t>(std::max<Index>(tangent_->tangent_context_size(x.rows()), 1)),
        0.0);
    tangent_->forward_tangent(t, cv(x), cv(v), mv(y), mv(jv), tctx_.data());
  }
  void jvp_vjp(double t, const Mat& x, const Mat& v, const Mat& fb, const Mat& jb, Mat& x_bar,
               Mat& v_bar, double* tb, double* t_bar) override {
    Mat y(x.rows(), out()), jv(x.rows(), out());
    jvp(t, x, v, y, jv);
    tangent_->backward_tangent(t, cv(x), cv(v), tctx_.data(), cv(fb), cv(jb), mv(x_bar), mv(v_bar),
                               tb, t_bar);
  }

 private:
  Layer<double>& l_;
  TangentLayer<double>* tangent_ = l_.tangent();
  std::span<double> p_;
  std::vector<double> ctx_, tctx_;
};

class FieldSubject final : public Subject {
 public:
  explicit FieldSubject(VectorField<double>& f) : f_(f) {}
  Index in() const override { return f_.dim(); }
  Index out() const override { return f_.dim(); }
  std::span<double> params() override { return f_.params(); }
  void f(double t, const Mat& x, Mat& y) override { f_.forward(t, cv(x), mv(y)); }
  bool has_tangent() const override {
    auto* lf = dynamic_cast<LayerField<double>*>(&f_);
    return !lf || lf->has_tangent();
  }
  void vjp(double t, const Mat& x, const Mat& a, Mat& x_bar, double* tb, double* t_bar) override {
    f_.vjp(t, cv(x), cv(a), nullptr, mv(x_bar), tb, t_bar);
  }
  void jvp(double t, const Mat& x, const Mat& v, Mat& y, Mat& jv) override {
    f_.jvp(t, cv(x), cv(v), mv(y), mv(jv));
  }
  void jvp_vjp(double t, const Mat& x, const Mat& v, const Mat& fb, const Mat& jb, Mat& x_bar,
               Mat& v_bar, double* tb, double* t_bar) override {
    f_.jvp_vjp(t, cv(x), cv(v), cv(fb), cv(jb), mv(x_bar), mv(v_bar), tb, t_bar);
  }

 private:
  VectorField<double>& f_;
};

// max_i |g_i - d_i| / max(|d|_inf, |g|_inf, 1); NaN if either holds a NaN.
double error(const std::vector<double>& g, const std::vector<double>& d) {
  double num = 0, scale = 1;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i]) || std::isnan(d[i])) return std::numeric_limits<double>::quiet_NaN();
    num = std::max(num, std::abs(g[i] - d[i]));
    scale = std::max({scale, std::abs(g[i]), std::abs(d[i])});
  }
  return num / scale;
}

Mat random_normal(Index rows, Index cols, Rng& rng) {
  Mat m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.normal();
  return m;
}

GradcheckReport run(Subject& s, std::string subject, Index batch, std::uint64_t seed,
                    const GradcheckOptions& o) {
  Rng rng(seed);
  const Index in = s.in(), out = s.out();
  const double h = o.h;
  GradcheckReport r;
  r.subject = std::move(subject);
  r.batch = batch;
  r.h = h;
  r.t = std::isnan(o.t) ? rng.uniform(0.1, 0.9) : o.t;
  double t = r.t;

  // Inputs away from 0 (sign * U(0.2, 1)) so kinks at 0 are never straddled; cotangents N(0, 1).
  Mat x(batch, in);
  for (Index i = 0; i < x.size(); ++i) {
    x.data()[i] = (rng.uniform() < 0.5 ? -1.0 : 1.0) * rng.uniform(0.2, 1.0);
  }
  const Mat a = random_normal(batch, out, rng), v = random_normal(batch, in, rng);
  const Mat fb = random_normal(batch, out, rng), jb = random_normal(batch, out, rng);
  auto params = s.params();
  r.num_params = static_cast<Index>(params.size());

  Mat y(batch, out), jv(batch, out), y2(batch, out);
  auto phi = [&] {
    s.f(t, x, y);
    return (a.array() * y.array()).sum();
  };
  auto psi = [&](const Mat& vv) {
    s.jvp(t, x, vv, y2, jv);
    return (fb.array() * y2.array()).sum() + (jb.array() * jv.array()).sum();
  };
  auto central = [&](double& p, auto&& g) {
    const double saved = p;
    p = saved + h;
    const double plus = g();
    p = saved - h;
    const double minus = g();
    p = saved;
    return (plus - minus) / (2 * h);
  };

  // Parameter coordinates to difference (all, or a seeded subset).
  std::vector<std::size_t> coords(params.size());
  std::iota(coords.begin(), coords.end(), 0);
  if (static_cast<Index>(coords.size()) > o.max_param_coordinates) {
    for (Index i = 0; i < o.max_param_coordinates; ++i) {
      const auto j =
          static_cast<std::size_t>(i) +
          static_cast<std::size_t>(rng.next() % (coords.size() - static_cast<std::size_t>(i)));
      std::swap(coords[static_cast<std::size_t>(i)], coords[j]);
    }
    coords.resize(static_cast<std::size_t>(o.max_param_coordinates));
  }
  r.num_params_checked = static_cast<Index>(coords.size());

  // ---- VJP -------------------------------------------------------------------------------------
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Mat x_bar = Mat::Constant(batch, in, nan);          // must be overwritten
  std::vector<double> theta_bar(params.size(), 1.0);  // must be added into
  double t_bar = 1.0;
  s.vjp(t, x, a, x_bar, theta_bar.data(), &t_bar);
  {
    std::vector<double> g(x_bar.data(), x_bar.data() + x_bar.size()), d;
    for (Index i = 0; i < x.size(); ++i) d.push_back(central(x.data()[i], phi));
    r.vjp_x = error(g, d);
    g.clear();
    d.clear();
    for (auto j : coords) {
      g.push_back(theta_bar[j] - 1.0);
      d.push_back(central(params[j], phi));
    }
    r.vjp_theta = error(g, d);
    r.vjp_t = error({t_bar - 1.0}, {central(t, phi)});
  }

  // ---- JVP: f along v, and the tangent pass's f equal to forward's ----------------------------
  if (s.has_tangent()) {
    Mat f0(batch, out), jv0(batch, out), fp(batch, out), fm(batch, out);
    s.f(t, x, f0);
    s.jvp(t, x, v, y2, jv0);
    const Mat f_tangent = y2;
    const Mat x0 = x;
    x = x0 + h * v;
    s.f(t, x, fp);
    x = x0 - h * v;
    s.f(t, x, fm);
    x = x0;
    const Mat d = (fp - fm) / (2 * h);
    std::vector<double> gv(jv0.data(), jv0.data() + jv0.size()), dv(d.data(), d.data() + d.size());
    std::vector<double> gf(f_tangent.data(), f_tangent.data() + f_tangent.size()),
        df(f0.data(), f0.data() + f0.size());
    r.jvp = std::max(error(gv, dv), error(gf, df));
    if (std::isnan(r.jvp)) r.jvp = nan;
  }

  // ---- VJP of the JVP --------------------------------------------------------------------------
  if (s.has_tangent()) {
    Mat xb = Mat::Constant(batch, in, nan), vb = Mat::Constant(batch, in, nan);
    std::vector<double> tb(params.size(), 1.0);
    double ttb = 1.0;
    s.jvp_vjp(t, x, v, fb, jb, xb, vb, tb.data(), &ttb);
    auto psi_v = [&] { return psi(v); };
    std::vector<double> g(xb.data(), xb.data() + xb.size()), d;
    for (Index i = 0; i < x.size(); ++i) d.push_back(central(x.data()[i], psi_v));
    r.jvp_vjp_x = error(g, d);
    Mat vv = v;
    g.assign(vb.data(), vb.data() + vb.size());
    d.clear();
    for (Index i = 0; i < vv.size(); ++i) {
      d.push_back(central(vv.data()[i], [&] { return psi(vv); }));
    }
    r.jvp_vjp_v = error(g, d);
    g.clear();
    d.clear();
    for (auto j : coords) {
      g.push_back(tb[j] - 1.0);
      d.push_back(central(params[j], psi_v));
    }
    r.jvp_vjp_theta = error(g, d);
    r.jvp_vjp_t = error({ttb - 1.0}, {central(t, psi_v)});
  }
  return r;
}

struct Row {
  const char* name;
  double value;
};

}  // namespace

double GradcheckReport::max_error() const {
  double m = 0;
  for (double e : {vjp_x, vjp_theta, vjp_t, jvp, jvp_vjp_x, jvp_vjp_v, jvp_vjp_theta, jvp_vjp_t}) {
    if (std::isnan(e)) return e;
    m = std::max(m, e);
  }
  return m;
}

bool GradcheckReport::ok(double tolerance) const {
  return max_error() <= tolerance;
}

std::string GradcheckReport::brief() const {
  const Row rows[] = {{"vjp_x", vjp_x},
                      {"vjp_theta", vjp_theta},
                      {"vjp_t", vjp_t},
                      {"jvp", jvp},
                      {"jvp_vjp_x", jvp_vjp_x},
                      {"jvp_vjp_v", jvp_vjp_v},
                      {"jvp_vjp_theta", jvp_vjp_theta},
                      {"jvp_vjp_t", jvp_vjp_t}};
  const Row* worst = &rows[0];
  for (const auto& row : rows) {
    if (std::isnan(row.value) || row.value > worst->value) {
      worst = &row;
      if (std::isnan(row.value)) break;
    }
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "gradcheck %s: max error %.2e (%s), batch %lld, h %.0e",
                subject.c_str(), max_error(), worst->name, static_cast<long long>(batch), h);
  return buf;
}

std::string GradcheckReport::report() const {
  std::string s = brief() + "\n";
  char buf[160];
  std::snprintf(buf, sizeof buf, "  t = %.6g, parameters checked %lld of %lld\n", t,
                static_cast<long long>(num_params_checked), static_cast<long long>(num_params));
  s += buf;
  const Row rows[] = {{"vjp      d/dx", vjp_x},
                      {"vjp      d/dtheta", vjp_theta},
                      {"vjp      d/dt", vjp_t},
                      {"jvp      (df/dx) v", jvp},
                      {"jvp_vjp  d/dx", jvp_vjp_x},
                      {"jvp_vjp  d/dv", jvp_vjp_v},
                      {"jvp_vjp  d/dtheta", jvp_vjp_theta},
                      {"jvp_vjp  d/dt", jvp_vjp_t}};
  for (const auto& row : rows) {
    std::snprintf(buf, sizeof buf, "  %-20s %10.2e\n", row.name, row.value);
    s += buf;
  }
  return s;
}

GradcheckReport gradcheck(Layer<double>& layer, std::span<double> params, Index batch,
                          std::uint64_t seed, const GradcheckOptions& options) {
  LayerSubject s(layer, params);
  return run(s,
             layer.kind() + " " + std::to_string(layer.in_features()) + "->" +
                 std::to_string(layer.out_features()),
             batch, seed, options);
}

GradcheckReport gradcheck(Layer<double>& layer, Index batch, std::uint64_t seed, double h) {
  std::vector<double> params(static_cast<std::size_t>(layer.num_params()));
  init_default(std::span<double>(params), layer.param_specs(), seed);
  layer.bind(params.data());
  GradcheckOptions options;
  options.h = h;
  auto report = gradcheck(layer, std::span<double>(params), batch, seed, options);
  layer.bind(nullptr);
  return report;
}

GradcheckReport gradcheck(VectorField<double>& field, Index batch, std::uint64_t seed,
                          const GradcheckOptions& options) {
  FieldSubject s(field);
  return run(s, "VectorField dim " + std::to_string(field.dim()), batch, seed, options);
}

}  // namespace neuralode::nn
