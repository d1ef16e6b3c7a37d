// The built-in problems: their equations, parameters, exact solutions or reference values, and
// invariants, each with its source.
#include "neuralode/ode/problems.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::ode {

namespace {

using detail::cat;

// ---- linear ------------------------------------------------------------------------------------
// y' = A y with A = Q B Q^T: B is block diagonal with three damped rotations (eigenvalues
// -a +- i w) and four pure decays, Q a fixed orthogonal matrix that mixes every component. The
// exact solution is y(t) = Q exp(B t) Q^T y0, where exp(B t) is known block by block
// (e^{-a t} times a rotation by w t), so it is exact to rounding; tests cross-check it against
// Eigen's general matrix exponential (unsupported/Eigen/MatrixFunctions), which we keep out of
// the library because its Pade approximation is less accurate than the closed form.
struct LinearModes {
  // Damped rotations (a, w): slow and oscillating, faster decay, nearly undamped and fast.
  static constexpr double kRotations[3][2] = {{0.1, 1.0}, {0.3, 2.5}, {0.02, 5.0}};
  // Pure decays (eigenvalue -lambda). The largest, 2, keeps the problem non-stiff on [0, 10].
  static constexpr double kDecays[4] = {0.2, 0.5, 1.0, 2.0};
  static constexpr Index kDim = 10;
};

// Q = H(u) H(v), the product of two Householder reflections H(x) = I - 2 x x^T / (x^T x) with
// fixed integer vectors: orthogonal by construction, reproducible bit for bit, and dense. Built
// column by column with plain loops (set-up code; GCC 12 also warns falsely inside Eigen's AVX-512
// matrix-product kernels at -march=native).
Eigen::MatrixXd linear_mixing() {
  constexpr Index n = LinearModes::kDim;
  double u[n], v[n];
  for (Index i = 0; i < n; ++i) {
    u[i] = static_cast<double>(i + 1);
    v[i] = static_cast<double>((i % 2 == 0 ? 1 : -1) * (1 + i % 3));
  }
  auto reflect = [](const double* x, double* y) {
    double xy = 0, xx = 0;
    for (Index i = 0; i < n; ++i) {
      xy += x[i] * y[i];
      xx += x[i] * x[i];
    }
    for (Index i = 0; i < n; ++i) y[i] -= 2.0 * xy / xx * x[i];
  };
  Eigen::MatrixXd q(n, n);
  for (Index j = 0; j < n; ++j) {
    double column[n] = {};
    column[j] = 1.0;
    reflect(v, column);
    reflect(u, column);
    for (Index i = 0; i < n; ++i) q(i, j) = column[i];
  }
  return q;
}

Eigen::MatrixXd linear_block_matrix() {
  const Index n = LinearModes::kDim;
  Eigen::MatrixXd b = Eigen::MatrixXd::Zero(n, n);
  for (Index k = 0; k < 3; ++k) {
    const double a = LinearModes::kRotations[k][0], w = LinearModes::kRotations[k][1];
    b(2 * k, 2 * k) = -a;
    b(2 * k, 2 * k + 1) = w;
    b(2 * k + 1, 2 * k) = -w;
    b(2 * k + 1, 2 * k + 1) = -a;
  }
  for (Index k = 0; k < 4; ++k) b(6 + k, 6 + k) = -LinearModes::kDecays[k];
  return b;
}

Problem make_linear() {
  const Index n = LinearModes::kDim;
  const Eigen::MatrixXd q = linear_mixing();
  const Eigen::MatrixXd b = linear_block_matrix();
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(n, n);  // A = Q B Q^T
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j)
      for (Index k = 0; k < n; ++k)
        for (Index l = 0; l < n; ++l) a(i, j) += q(i, k) * b(k, l) * q(j, l);
  Problem p;
  p.name = "linear";
  p.description =
      "y' = A y, 10-dim, A = Q B Q^T with modes -0.1+-1i, -0.3+-2.5i, -0.02+-5i, -0.2, -0.5, "
      "-1, -2; y0 = 1";
  p.dim = n;
  p.y0.assign(static_cast<std::size_t>(n), 1.0);
  p.t0 = 0.0;
  p.t1 = 10.0;
  p.rhs = [a](double, const double* y, double* dy) {
    Eigen::Map<Eigen::VectorXd>(dy, a.rows()).noalias() =
        a * Eigen::Map<const Eigen::VectorXd>(y, a.cols());
  };
  // z0 = Q^T y0 are the initial modal coordinates; z(t) = exp(B t) z0 block by block.
  Eigen::VectorXd z0 = Eigen::VectorXd::Zero(n);
  for (Index k = 0; k < n; ++k)
    for (Index i = 0; i < n; ++i) z0[k] += q(i, k) * p.y0[static_cast<std::size_t>(i)];
  const double t0 = p.t0;
  p.exact = [q, z0, t0](double t, double* y) {
    const double s = t - t0;
    Eigen::VectorXd z(z0.size());
    for (Index k = 0; k < 3; ++k) {
      const double a = LinearModes::kRotations[k][0], w = LinearModes::kRotations[k][1];
      const double damp = std::exp(-a * s), c = std::cos(w * s), sn = std::sin(w * s);
      // exp([[-a, w], [-w, -a]] s) = e^{-a s} [[cos ws, sin ws], [-sin ws, cos ws]].
      z[2 * k] = damp * (c * z0[2 * k] + sn * z0[2 * k + 1]);
      z[2 * k + 1] = damp * (-sn * z0[2 * k] + c * z0[2 * k + 1]);
    }
    for (Index k = 0; k < 4; ++k) z[6 + k] = std::exp(-LinearModes::kDecays[k] * s) * z0[6 + k];
    Eigen::Map<Eigen::VectorXd>(y, q.rows()).noalias() = q * z;
  };
  p.reference_note =
      "exact: y(t) = Q exp(B t) Q^T y0 with exp(B t) in closed form per 2x2 rotation block and "
      "per decay (Q = product of two Householder reflections, see src/ode/problems.cpp)";
  return p;
}

// ---- harmonic ----------------------------------------------------------------------------------
Problem make_harmonic() {
  Problem p;
  p.name = "harmonic";
  p.description = "harmonic oscillator x'' = -x as y = (x, x'); y0 = (1, 0)";
  p.dim = 2;
  p.y0 = {1.0, 0.0};
  p.t0 = 0.0;
  p.t1 = 10.0;
  p.rhs = [](double, const double* y, double* dy) {
    dy[0] = y[1];
    dy[1] = -y[0];
  };
  const double t0 = p.t0;
  p.exact = [t0](double t, double* y) {
    y[0] = std::cos(t - t0);
    y[1] = -std::sin(t - t0);
  };
  p.reference_note = "exact: x = cos t, x' = -sin t";
  p.invariants.push_back(
      {"energy", [](const double* y) { return 0.5 * (y[0] * y[0] + y[1] * y[1]); }});
  return p;
}

// ---- vanderpol ---------------------------------------------------------------------------------
Problem make_vanderpol() {
  constexpr double kMu = 1.0;
  Problem p;
  p.name = "vanderpol";
  p.description = "Van der Pol oscillator x'' = mu (1 - x^2) x' - x, mu = 1; y0 = (2, 0)";
  p.dim = 2;
  p.y0 = {2.0, 0.0};
  p.t0 = 0.0;
  p.t1 = 20.0;  // about three periods of the limit cycle (period ~6.66 at mu = 1)
  p.rhs = [](double, const double* y, double* dy) {
    dy[0] = y[1];
    dy[1] = kMu * (1.0 - y[0] * y[0]) * y[1] - y[0];
  };
  p.reference_note =
      "none: no closed form; van der Pol (1926). Non-stiff at mu = 1; stiff only for mu >> 1";
  return p;
}

// ---- lotka_volterra ----------------------------------------------------------------------------
Problem make_lotka_volterra() {
  constexpr double kAlpha = 1.5, kBeta = 1.0, kGamma = 3.0, kDelta = 1.0;
  Problem p;
  p.name = "lotka_volterra";
  p.description =
      "predator-prey x' = a x - b x y, y' = d x y - g y, a = 1.5, b = 1, g = 3, d = 1; y0 = (1, 1)";
  p.dim = 2;
  p.y0 = {1.0, 1.0};
  p.t0 = 0.0;
  p.t1 = 10.0;
  p.rhs = [](double, const double* y, double* dy) {
    dy[0] = kAlpha * y[0] - kBeta * y[0] * y[1];
    dy[1] = kDelta * y[0] * y[1] - kGamma * y[1];
  };
  p.reference_note =
      "none: no closed form; Volterra (1926). Invariant V = d x - g ln x + b y - a ln y";
  // dV/dt = (d - g/x) x' + (b - a/y) y' = (d x - g)(a - b y) + (b y - a)(d x - g) = 0.
  p.invariants.push_back({"V", [](const double* y) {
                            return kDelta * y[0] - kGamma * std::log(y[0]) + kBeta * y[1] -
                                   kAlpha * std::log(y[1]);
                          }});
  return p;
}

// ---- kepler ------------------------------------------------------------------------------------
// Two bodies with G M = 1, state (q1, q2, p1, p2), q'' = -q / |q|^3. Starting at perihelion
// q = (1 - e, 0) with p = (0, sqrt((1 + e)/(1 - e))) the orbit is an ellipse with semi-major axis
// 1 and period 2 pi (Hairer, Lubich & Wanner, Geometric Numerical Integration, section I.2.3).
constexpr double kKeplerE = 0.5;

// The exact position on the orbit at time s after perihelion: Kepler's equation E - e sin E = s
// (mean motion 1) solved for the eccentric anomaly E by Newton's method, then
//   q = (cos E - e, sqrt(1 - e^2) sin E),  p = (-sin E, sqrt(1 - e^2) cos E) / (1 - e cos E).
void kepler_exact(double s, double* y) {
  const double e = kKeplerE;
  // Only sin E and cos E are used, so reduce the mean anomaly to [-pi, pi]: Newton from E = M
  // then converges in a handful of iterations for e = 0.5 (f' = 1 - e cos E >= 1 - e).
  const double m = std::remainder(s, 2.0 * std::numbers::pi);
  double ecc_anomaly = m;
  for (int it = 0; it < 50; ++it) {
    const double step =
        (ecc_anomaly - e * std::sin(ecc_anomaly) - m) / (1.0 - e * std::cos(ecc_anomaly));
    ecc_anomaly -= step;
    if (std::abs(step) <= 1e-16 * std::max(1.0, std::abs(ecc_anomaly))) break;
  }
  const double c = std::cos(ecc_anomaly), sn = std::sin(ecc_anomaly);
  const double root = std::sqrt(1.0 - e * e);
  const double denom = 1.0 - e * c;
  y[0] = c - e;
  y[1] = root * sn;
  y[2] = -sn / denom;
  y[3] = root * c / denom;
}

Problem make_kepler() {
  Problem p;
  p.name = "kepler";
  p.description =
      "two-body problem q'' = -q/|q|^3 as (q, p), eccentricity 0.5, period 2 pi; y0 = (0.5, 0, 0, "
      "sqrt(3))";
  p.dim = 4;
  p.y0 = {1.0 - kKeplerE, 0.0, 0.0, std::sqrt((1.0 + kKeplerE) / (1.0 - kKeplerE))};
  p.t0 = 0.0;
  p.t1 = 2.0 * std::numbers::pi;  // one period: y(t1) = y0
  p.rhs = [](double, const double* y, double* dy) {
    const double r2 = y[0] * y[0] + y[1] * y[1];
    const double inv_r3 = 1.0 / (r2 * std::sqrt(r2));
    dy[0] = y[2];
    dy[1] = y[3];
    dy[2] = -y[0] * inv_r3;
    dy[3] = -y[1] * inv_r3;
  };
  const double t0 = p.t0;
  p.exact = [t0](double t, double* y) { kepler_exact(t - t0, y); };
  p.reference_note =
      "exact: Kepler's equation E - e sin E = t solved by Newton's method (Hairer, Lubich & "
      "Wanner, GNI, section I.2); one period, so y(t1) = y0";
  p.invariants.push_back({"energy", [](const double* y) {
                            return 0.5 * (y[2] * y[2] + y[3] * y[3]) -
                                   1.0 / std::sqrt(y[0] * y[0] + y[1] * y[1]);
                          }});
  p.invariants.push_back(
      {"angular_momentum", [](const double* y) { return y[0] * y[3] - y[1] * y[2]; }});
  return p;
}

// ---- arenstorf ---------------------------------------------------------------------------------
// Restricted three-body problem (a light body moving with the Earth and the Moon in their rotating
// frame), state (x, y, x', y'), Hairer, Norsett & Wanner I, section II.0, eq. (0.1); the initial
// values (0.2) give the periodic Arenstorf orbit with period T below (30 digits as printed there).
constexpr double kArenstorfMu = 0.012277471;
constexpr double kArenstorfPeriod = 17.0652165601579625588917206249;

Problem make_arenstorf() {
  Problem p;
  p.name = "arenstorf";
  p.description =
      "restricted three-body problem (Earth-Moon, mu = 0.012277471), periodic Arenstorf orbit, "
      "T = 17.0652...";
  p.dim = 4;
  p.y0 = {0.994, 0.0, 0.0, -2.00158510637908252240537862224};
  p.t0 = 0.0;
  p.t1 = kArenstorfPeriod;
  p.rhs = [](double, const double* y, double* dy) {
    const double mu = kArenstorfMu, mu1 = 1.0 - mu;
    const double r1sq = (y[0] + mu) * (y[0] + mu) + y[1] * y[1];
    const double r2sq = (y[0] - mu1) * (y[0] - mu1) + y[1] * y[1];
    const double d1 = r1sq * std::sqrt(r1sq), d2 = r2sq * std::sqrt(r2sq);
    dy[0] = y[2];
    dy[1] = y[3];
    dy[2] = y[0] + 2.0 * y[3] - mu1 * (y[0] + mu) / d1 - mu * (y[0] - mu1) / d2;
    dy[3] = y[1] - 2.0 * y[2] - mu1 * y[1] / d1 - mu * y[1] / d2;
  };
  p.y1_reference = p.y0;
  p.reference_note =
      "periodic orbit: y(T) = y0 with T and y0 from Hairer, Norsett & Wanner I, section II.0, "
      "eq. (0.2)";
  // Jacobi integral of the rotating frame: with Omega = (x^2 + y^2)/2 + (1 - mu)/r1 + mu/r2 the
  // equations read x'' - 2y' = Omega_x, y'' + 2x' = Omega_y, so (x'^2 + y'^2)/2 - Omega is
  // constant.
  p.invariants.push_back({"jacobi", [](const double* y) {
                            const double mu = kArenstorfMu, mu1 = 1.0 - mu;
                            const double r1 = std::hypot(y[0] + mu, y[1]);
                            const double r2 = std::hypot(y[0] - mu1, y[1]);
                            const double omega =
                                0.5 * (y[0] * y[0] + y[1] * y[1]) + mu1 / r1 + mu / r2;
                            return 0.5 * (y[2] * y[2] + y[3] * y[3]) - omega;
                          }});
  return p;
}

// ---- brusselator -------------------------------------------------------------------------------
Problem make_brusselator() {
  constexpr double kA = 1.0, kB = 3.0;
  Problem p;
  p.name = "brusselator";
  p.description =
      "Brusselator x' = A + x^2 y - (B + 1) x, y' = B x - x^2 y, A = 1, B = 3; y0 = (1.5, 3)";
  p.dim = 2;
  p.y0 = {1.5, 3.0};
  p.t0 = 0.0;
  p.t1 = 20.0;
  p.rhs = [](double, const double* y, double* dy) {
    const double x2y = y[0] * y[0] * y[1];
    dy[0] = kA + x2y - (kB + 1.0) * y[0];
    dy[1] = kB * y[0] - x2y;
  };
  p.reference_note =
      "none: no closed form; Prigogine & Lefever (1968), with the parameters and initial values "
      "of Hairer, Norsett & Wanner I's examples (section not re-checked)";
  return p;
}

}  // namespace

bool Problem::reference(double t_start, double t_end, std::span<double> y) const {
  if (static_cast<Index>(y.size()) != dim)
    throw InvalidArgument(
        cat("Problem::reference: '", name, "' has dim ", dim, "; y has ", y.size(), " entries"));
  const double length = t_end - t_start;
  if (exact) {
    exact(t0 + length, y.data());
    return true;
  }
  // Only for the default interval: a reference value at t1 says nothing about other times.
  if (!y1_reference.empty() && std::abs(length - (t1 - t0)) <= 1e-14 * std::abs(t1 - t0)) {
    std::copy(y1_reference.begin(), y1_reference.end(), y.begin());
    return true;
  }
  return false;
}

std::optional<double> Problem::error(double t_start, double t_end,
                                     std::span<const double> y) const {
  std::vector<double> ref(static_cast<std::size_t>(dim));
  if (static_cast<Index>(y.size()) != dim)
    throw InvalidArgument(
        cat("Problem::error: '", name, "' has dim ", dim, "; y has ", y.size(), " entries"));
  if (!reference(t_start, t_end, ref)) return std::nullopt;
  double max_abs = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) max_abs = std::max(max_abs, std::abs(y[i] - ref[i]));
  return max_abs;
}

Matrix<double> Problem::initial_state(Index batch) const {
  if (batch < 1)
    throw InvalidArgument(cat("Problem::initial_state: batch = ", batch, " must be >= 1"));
  Matrix<double> y(batch, dim);
  for (Index r = 0; r < batch; ++r)
    for (Index i = 0; i < dim; ++i) y(r, i) = y0[static_cast<std::size_t>(i)];
  return y;
}

void ProblemSystem::rhs(double t, ConstMatrixView<double> y, MatrixView<double> dy) {
  const Index dim = problem_.dim;
  if (y.cols() != dim)
    throw InvalidArgument(cat("ProblemSystem: problem '", problem_.name, "' has dim ", dim,
                              "; got a batch of ", y.rows(), " x ", y.cols()));
  for (Index r = 0; r < y.rows(); ++r) problem_.rhs(t, y.data() + r * dim, dy.data() + r * dim);
}

const std::vector<Problem>& builtin_problems() {
  static const std::vector<Problem> problems = [] {
    std::vector<Problem> list;
    list.push_back(make_linear());
    list.push_back(make_harmonic());
    list.push_back(make_vanderpol());
    list.push_back(make_lotka_volterra());
    list.push_back(make_kepler());
    list.push_back(make_arenstorf());
    list.push_back(make_brusselator());
    return list;
  }();
  return problems;
}

std::string problem_names() {
  std::string names;
  for (const Problem& p : builtin_problems()) names += (names.empty() ? "" : ", ") + p.name;
  return names;
}

const Problem& find_problem(std::string_view name) {
  for (const Problem& p : builtin_problems())
    if (p.name == name) return p;
  throw InvalidArgument(cat("unknown problem '", name, "'; accepted: ", problem_names()));
}

}  // namespace neuralode::ode
