// GradOptions::validate and the AdjointNorm word round-trip.
#include "neuralode/grad/grad_options.hpp"

#include <cmath>

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
  if (!grad::detail::has_gradient_method(method))
    throw InvalidArgument(
        cat("unknown gradient method '", method, "'; accepted: ", gradient_method_names()));
  if (!adjoint_method.empty()) ode::find_method(adjoint_method);
  if (!(adjoint_rtol >= 0) || !std::isfinite(adjoint_rtol))
    throw InvalidArgument(
        cat("GradOptions: adjoint_rtol = ", num(adjoint_rtol), " must be >= 0 (0 = forward rtol)"));
  if (!(adjoint_atol >= 0) || !std::isfinite(adjoint_atol))
    throw InvalidArgument(
        cat("GradOptions: adjoint_atol = ", num(adjoint_atol), " must be >= 0 (0 = forward atol)"));
  if (checkpoint_every < 1)
    throw InvalidArgument(
        cat("GradOptions: checkpoint_every = ", checkpoint_every, " must be >= 1"));
  if (binomial_snapshots < 0 || binomial_snapshots == 1)
    throw InvalidArgument(cat("GradOptions: binomial_snapshots = ", binomial_snapshots,
                              " must be 0 (automatic) or >= 2"));
}

}  // namespace neuralode::grad
