// ButcherTableau: the numbers that define an explicit Runge-Kutta method. Every solver in neuralode
// is one of these plus the shared stepping loop in odeint; a new method is a new tableau.
#pragma once

#include <string>
#include <vector>

namespace neuralode::ode {

// An explicit s-stage Runge-Kutta method (Hairer, Norsett & Wanner I, section II.1):
//   k_i     = f(t + c_i h, y + h sum_{j<i} a_ij k_j),   i = 1..s
//   y_new   = y + h sum_i b_i k_i                         (order p)
//   y_embed = y + h sum_i bhat_i k_i                      (order q, adaptive methods only)
//   err     = y_new - y_embed = h sum_i e_i k_i,          e = b - bhat
// Coefficients are stored in double; solves in float cast them once per workspace.
struct ButcherTableau {
  // How output between step ends is computed.
  enum class Interpolation {
    // Cubic Hermite through (y0, f0) and (y1, f1): third order, any method. f1 = f(t + h, y1) is
    // the next step's first stage, so it costs no extra evaluation except at the very last step.
    hermite3,
    // The method's own continuous extension: y(t + theta h) = y + h sum_i b_i(theta) k_i with
    // polynomial weights given in `dense` (dopri5, tsit5).
    own,
  };

  std::string name;          // the word users type: "dopri5"
  std::string summary;       // one line: order, embedded order, stages, FSAL, dense output
  std::string source;        // where the coefficients come from (paper, section)
  int order = 0;             // p, order of y_new
  int embedded_order = 0;    // q, order of y_embed; 0 for fixed-step methods (no error estimate)
  int stages = 0;            // s
  std::vector<double> c;     // s nodes
  std::vector<double> a;     // s x s row-major, strictly lower triangular
  std::vector<double> b;     // s weights of the propagated solution
  std::vector<double> bhat;  // s weights of the embedded solution; empty for fixed-step methods
  Interpolation interpolation = Interpolation::hermite3;
  // For Interpolation::own: s x dense_degree row-major; b_i(theta) = sum_k dense[i][k] theta^(k+1).
  std::vector<double> dense;
  int dense_degree = 0;
  // Order of the dense output (3 for Hermite; the method's own for `own`).
  int dense_order = 3;

  // Derived by validate(): first-same-as-last, i.e. the last stage is evaluated at (t + h, y_new),
  // so its k is the next step's k_1 (the last row of a equals b and c_s = 1).
  bool fsal = false;

  bool adaptive() const { return embedded_order > 0; }
  double a_at(int i, int j) const { return a[static_cast<std::size_t>(i * stages + j)]; }

  // Checks the tableau's own consistency and derives `fsal`: sizes, a strictly lower triangular,
  // rows of a summing to c (to 1e-14), b and bhat summing to 1, dense weights reaching b at
  // theta = 1. Throws InvalidArgument naming the broken condition.
  void validate();

  // Weights w[0..s] of the dense output at theta in [0, 1] in the form shared by every method:
  //   y(t + theta h) = y0 + h (sum_{i<s} w[i] k_i + w[s] f(t + h, y1)).
  // w[s] is non-zero only for Hermite interpolation of non-FSAL methods. Writes s + 1 values and
  // does not allocate. Gradient methods use the same weights to differentiate through outputs.
  void dense_weights(double theta, double* w) const;
};

}  // namespace neuralode::ode
