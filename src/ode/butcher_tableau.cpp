// ButcherTableau's self-check (validate) and the dense-output weights every method shares. The
// numbers themselves live one method per file in src/ode/methods/.
#include "neuralode/ode/butcher_tableau.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <string>

#include "neuralode/error.hpp"

namespace neuralode::ode {
namespace {

// Tolerance of the consistency checks, relative to the size of the terms summed. Every coefficient
// is a rational or an algebraic number rounded to double (relative error <= eps/2 = 1.1e-16 each),
// and summing n <= 16 of them adds at most (n - 1) eps sum|term|, so an honest tableau misses an
// identity by <= 16 * 2.2e-16 * sum|term| ~ 3.6e-15 * sum|term|. 1e-14 keeps a 3x margin and still
// catches a coefficient typed wrong in its 14th digit. The scale is max(1, sum|term|): 1e-14
// absolute for the hand-sized rows (|a_ij| <= 1), but ~1e-12 for DOP853's row 9 (sum|a_9j| ~ 96),
// whose coefficients are as large as 43.
constexpr double kSumTolerance = 1e-14;

// The dense weights at theta = 1 are polynomials summed coefficient by coefficient; Tsit5's are
// expansions of the paper's factored polynomials with coefficients up to 88 in size, so they get
// ten times the room: 1e-13 * max(1, sum|coefficient|).
constexpr double kDenseTolerance = 1e-13;

// "Exactly" for the FSAL test: the last row of a is usually copied from b, so any difference
// means the stage is not evaluated at y_new.
constexpr double kFsalTolerance = 1e-15;

// Shortest text that reads back as the same double: 0.3 prints as "0.3", while a value off by one
// ulp prints all its digits, so a failed check always shows the difference.
std::string format_number(double x) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), x);
  return std::string(buffer, result.ptr);
}

std::string index_text(std::size_t i) {
  return std::to_string(i);
}

[[noreturn]] void fail(const ButcherTableau& tableau, const std::string& what) {
  throw InvalidArgument("ButcherTableau '" + tableau.name + "': " + what);
}

bool within(double value, double target, double tolerance, double scale) {
  return std::abs(value - target) <= tolerance * std::max(1.0, scale);
}

void check_finite(const ButcherTableau& tableau, const std::vector<double>& values,
                  const char* field) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      fail(tableau, std::string(field) + "[" + index_text(i) + "] = " + format_number(values[i]) +
                        " is not finite");
    }
  }
}

void check_weights_sum_to_one(const ButcherTableau& tableau, const std::vector<double>& weights,
                              const char* field) {
  double sum = 0.0;
  double scale = 0.0;
  for (double w : weights) {
    sum += w;
    scale += std::abs(w);
  }
  if (!within(sum, 1.0, kSumTolerance, scale)) {
    fail(tableau, std::string(field) + " sums to " + format_number(sum) +
                      " but consistency (order >= 1) needs 1");
  }
}

}  // namespace

void ButcherTableau::validate() {
  fsal = false;
  if (stages < 1) {
    fail(*this, "stages = " + std::to_string(stages) + "; a method needs at least 1 stage");
  }
  if (order < 1) {
    fail(*this, "order = " + std::to_string(order) + "; accepted: 1 or more");
  }
  if (embedded_order < 0) {
    fail(*this, "embedded_order = " + std::to_string(embedded_order) +
                    "; accepted: 0 (fixed step) or the order of bhat");
  }

  const auto s = static_cast<std::size_t>(stages);
  const std::string stages_text = "stages = " + std::to_string(stages);
  if (c.size() != s) {
    fail(*this, "c has " + std::to_string(c.size()) + " entries but " + stages_text);
  }
  if (a.size() != s * s) {
    fail(*this, "a has " + std::to_string(a.size()) +
                    " entries but needs stages^2 = " + std::to_string(s * s));
  }
  if (b.size() != s) {
    fail(*this, "b has " + std::to_string(b.size()) + " entries but " + stages_text);
  }
  if (!bhat.empty() && bhat.size() != s) {
    fail(*this, "bhat has " + std::to_string(bhat.size()) +
                    " entries; accepted: 0 (fixed step) or " + stages_text);
  }
  if (embedded_order > 0 && bhat.empty()) {
    fail(*this, "embedded_order = " + std::to_string(embedded_order) +
                    " but bhat is empty; give bhat or set embedded_order = 0");
  }
  if (embedded_order == 0 && !bhat.empty()) {
    fail(*this, "bhat is given but embedded_order = 0; set the embedded order or drop bhat");
  }
  check_finite(*this, c, "c");
  check_finite(*this, a, "a");
  check_finite(*this, b, "b");
  check_finite(*this, bhat, "bhat");
  check_finite(*this, dense, "dense");

  // Explicit methods: stage i may only use k_j with j < i.
  for (std::size_t i = 0; i < s; ++i) {
    for (std::size_t j = i; j < s; ++j) {
      if (a[i * s + j] != 0.0) {
        fail(*this, "a[" + index_text(i) + "][" + index_text(j) +
                        "] = " + format_number(a[i * s + j]) +
                        " is on or above the diagonal; an explicit method needs a strictly lower "
                        "triangular a");
      }
    }
  }

  // Row sums equal the nodes (HNW I, section II.1): each stage is a first-order approximation at
  // t + c_i h, which the order conditions in their usual form take for granted.
  for (std::size_t i = 0; i < s; ++i) {
    double sum = 0.0;
    double scale = 0.0;
    for (std::size_t j = 0; j < i; ++j) {
      sum += a[i * s + j];
      scale += std::abs(a[i * s + j]);
    }
    if (!within(sum, c[i], kSumTolerance, scale)) {
      fail(*this, "row " + index_text(i) + " of a sums to " + format_number(sum) + " but c[" +
                      index_text(i) + "] = " + format_number(c[i]));
    }
  }

  check_weights_sum_to_one(*this, b, "b");
  if (!bhat.empty()) check_weights_sum_to_one(*this, bhat, "bhat");

  switch (interpolation) {
    case Interpolation::hermite3:
      if (!dense.empty() || dense_degree != 0) {
        fail(*this, "interpolation is hermite3 but dense has " + std::to_string(dense.size()) +
                        " entries and dense_degree = " + std::to_string(dense_degree) +
                        "; only interpolation own reads them");
      }
      if (dense_order != 3) {
        fail(*this, "interpolation is hermite3 (third order) but dense_order = " +
                        std::to_string(dense_order));
      }
      break;
    case Interpolation::own: {
      if (dense_degree < 1) {
        fail(*this, "interpolation is own but dense_degree = " + std::to_string(dense_degree) +
                        "; give the polynomial degree of the weights b_i(theta)");
      }
      if (dense_order < 1 || dense_order > dense_degree) {
        fail(*this, "dense_order = " + std::to_string(dense_order) +
                        " is impossible for weights of degree " + std::to_string(dense_degree));
      }
      const auto degree = static_cast<std::size_t>(dense_degree);
      if (dense.size() != s * degree) {
        fail(*this, "dense has " + std::to_string(dense.size()) +
                        " entries but needs stages x dense_degree = " + std::to_string(s * degree));
      }
      // The continuous extension must end where the step ends: b_i(1) = b_i.
      for (std::size_t i = 0; i < s; ++i) {
        double sum = 0.0;
        double scale = 0.0;
        for (std::size_t k = 0; k < degree; ++k) {
          sum += dense[i * degree + k];
          scale += std::abs(dense[i * degree + k]);
        }
        if (!within(sum, b[i], kDenseTolerance, scale)) {
          fail(*this, "dense weight of stage " + index_text(i) + " at theta = 1 is " +
                          format_number(sum) + " but b[" + index_text(i) +
                          "] = " + format_number(b[i]));
        }
      }
      break;
    }
    default:
      fail(*this, "interpolation has the unknown value " +
                      std::to_string(static_cast<int>(interpolation)));
  }

  // First same as last is structural: the last stage is evaluated at t + h on y_new itself, so its
  // k is f(t + h, y_new), the next step's k_1. a's diagonal is zero, so the row comparison also
  // requires b_s = 0.
  bool last_stage_is_y_new = c[s - 1] == 1.0;
  for (std::size_t j = 0; j < s && last_stage_is_y_new; ++j) {
    last_stage_is_y_new = std::abs(a[(s - 1) * s + j] - b[j]) <= kFsalTolerance;
  }
  fsal = last_stage_is_y_new;
}

void ButcherTableau::dense_weights(double theta, double* w) const {
  const auto s = static_cast<std::size_t>(stages);
  if (interpolation == Interpolation::own) {
    // b_i(theta) = sum_k dense[i][k] theta^(k+1), by Horner's rule.
    const auto degree = static_cast<std::size_t>(dense_degree);
    for (std::size_t i = 0; i < s; ++i) {
      const double* coefficients = dense.data() + i * degree;
      double value = 0.0;
      for (std::size_t k = degree; k-- > 0;) value = value * theta + coefficients[k];
      w[i] = value * theta;
    }
    w[s] = 0.0;
    return;
  }

  // Cubic Hermite on [0, 1] (HNW I, section II.6) with the standard basis
  //   h00 = 1 - 3θ² + 2θ³,  h10 = θ - 2θ² + θ³,  h01 = 3θ² - 2θ³,  h11 = θ³ - θ²:
  //   y(θ) = h00 y0 + h01 y1 + h (h10 f0 + h11 f1).
  // h00 + h01 = 1, so y(θ) = y0 + h01 (y1 - y0) + h (h10 f0 + h11 f1), and with
  // (y1 - y0) / h = sum_i b_i k_i and f0 = k_1 (c_1 = 0, first row of a empty):
  //   w_i = h01 b_i + h10 [i = 1],  w_{s+1} = h11.
  const double theta2 = theta * theta;
  const double theta3 = theta2 * theta;
  const double h01 = 3.0 * theta2 - 2.0 * theta3;
  const double h10 = theta - 2.0 * theta2 + theta3;
  const double h11 = theta3 - theta2;
  for (std::size_t i = 0; i < s; ++i) w[i] = h01 * b[i];
  w[0] += h10;
  w[s] = h11;
  if (fsal) {
    // k_s is f(t + h, y1) already: no extra evaluation.
    w[s - 1] += w[s];
    w[s] = 0.0;
  }
}

}  // namespace neuralode::ode
