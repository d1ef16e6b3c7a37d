// GradOptions::validate and the AdjointNorm word round-trip.
#include "neuralode/grad/grad_options.hpp"

#include <cmath>
#include <limits>

#include "common/text.hpp"
#include "grad/methods.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"

namespace neuralode::grad {

using neuralode::detail::cat;
using neuralode::detail::num;

std::string_view to_string(AdjointNorm n) {
  return n == AdjointNorm::full ? "full" : "seminorm";
}

AdjointNorm parse_adjoint_norm(std::string_view word) {
  if (word == "full") return AdjointNorm::full;
  if (word == "seminorm") return AdjointNorm::seminorm;
  throw InvalidArgument(cat("unknown adjoint norm '", word, "'; accepted: full, seminorm"));
}

void GradOptions::validate() const {
  // Other parts prefix this message with their flag ("--grad: unknown gradient method ..."), so
  // it starts with the problem itself.
  if (!grad::detail::has_gradient_method(method))
    throw InvalidArgument(
        cat("unknown gradient method '", method, "'; accepted: ", gradient_method_names()));
  if (!adjoint_method.empty()) {
    try {
      ode::find_method(adjoint_method);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(
          cat("GradOptions: adjoint_method: ", e.what(), " (or empty: the forward method)"));
    }
  }
  if (!(adjoint_rtol >= 0) || !std::isfinite(adjoint_rtol))
    throw InvalidArgument(cat("GradOptions: adjoint_rtol = ", num(adjoint_rtol),
                              " is out of range; accepted: a finite number >= 0 (0 = the forward "
                              "rtol)"));
  if (!(adjoint_atol >= 0) || !std::isfinite(adjoint_atol))
    throw InvalidArgument(cat("GradOptions: adjoint_atol = ", num(adjoint_atol),
                              " is out of range; accepted: a finite number >= 0 (0 = the forward "
                              "atol)"));
  // Both given and both below the unit roundoff of double: the backward solve would refuse them
  // (SolveOptions::rtol) after the whole forward pass; say so before it. With only one given the
  // other is the forward's, which the backward solve checks.
  const double u = 0.5 * std::numeric_limits<double>::epsilon();
  if (adjoint_rtol > 0 && adjoint_atol > 0 && adjoint_rtol < u && adjoint_atol < u)
    throw InvalidArgument(cat("GradOptions: adjoint_rtol = ", num(adjoint_rtol),
                              " and adjoint_atol = ", num(adjoint_atol),
                              " are both below the unit roundoff of double (u = eps/2 = ", num(u),
                              "): no backward step can meet them; accepted: adjoint_rtol >= ",
                              num(u), " or adjoint_atol >= ", num(u)));
  if (checkpoint_every < 1)
    throw InvalidArgument(cat("GradOptions: checkpoint_every = ", checkpoint_every,
                              " is out of range; accepted: an integer >= 1 (32 by default)"));
  if (binomial_snapshots < 0 || binomial_snapshots == 1)
    throw InvalidArgument(cat("GradOptions: binomial_snapshots = ", binomial_snapshots,
                              " is out of range; accepted: 0 (automatic) or an integer >= 2"));
  if (adjoint_norm != AdjointNorm::full && adjoint_norm != AdjointNorm::seminorm)
    throw InvalidArgument(cat("GradOptions: adjoint_norm = ", static_cast<int>(adjoint_norm),
                              " is not an AdjointNorm; accepted: full, seminorm"));
}

}  // namespace neuralode::grad
