// SolveOptions::validate and the Controller word round-trip.
#include "neuralode/ode/solve_options.hpp"

#include <cmath>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"

namespace neuralode::ode {

using detail::cat;
using detail::num;

std::string_view to_string(Controller c) {
  return c == Controller::i ? "i" : "pi";
}

Controller parse_controller(std::string_view word) {
  if (word == "i") return Controller::i;
  if (word == "pi") return Controller::pi;
  throw InvalidArgument(cat("unknown step-size controller '", word, "'; accepted: i, pi"));
}

namespace {

void require_positive(const char* field, double value) {
  if (!(value > 0) || !std::isfinite(value))
    throw InvalidArgument(
        cat("SolveOptions: ", field, " = ", num(value), " must be finite and > 0"));
}

// A per-component vector applies to every sample (size dim) or to each component (batch*dim).
void require_component_size(const char* field, std::size_t size, std::int64_t batch,
                            std::int64_t dim) {
  if (size == 0 || dim <= 0) return;
  if (static_cast<std::int64_t>(size) != dim && static_cast<std::int64_t>(size) != batch * dim)
    throw InvalidArgument(cat("SolveOptions: ", field, " has ", size,
                              " entries; accepted: dim = ", dim, " or batch*dim = ", batch * dim));
}

}  // namespace

void SolveOptions::validate(std::int64_t batch, std::int64_t dim) const {
  find_method(method);  // throws with the accepted names
  require_positive("rtol", rtol);
  require_positive("atol", atol);
  for (std::size_t i = 0; i < atol_per_component.size(); ++i)
    if (!(atol_per_component[i] > 0) || !std::isfinite(atol_per_component[i]))
      throw InvalidArgument(cat("SolveOptions: atol_per_component[", i,
                                "] = ", num(atol_per_component[i]), " must be finite and > 0"));
  for (std::size_t i = 0; i < norm_weights.size(); ++i)
    if (!(norm_weights[i] >= 0) || !std::isfinite(norm_weights[i]))
      throw InvalidArgument(cat("SolveOptions: norm_weights[", i, "] = ", num(norm_weights[i]),
                                " must be finite and >= 0 (0 masks the component)"));
  if (!(quadrature_norm_weight >= 0) || !std::isfinite(quadrature_norm_weight))
    throw InvalidArgument(
        cat("SolveOptions: quadrature_norm_weight = ", num(quadrature_norm_weight),
            " must be finite and >= 0 (1 = full norm, 0 = seminorm)"));
  require_component_size("atol_per_component", atol_per_component.size(), batch, dim);
  require_component_size("norm_weights", norm_weights.size(), batch, dim);
  if (!(step_size >= 0) || !std::isfinite(step_size))
    throw InvalidArgument(cat("SolveOptions: step_size = ", num(step_size),
                              " must be >= 0 (0 = step from output time to output time)"));
  if (!(first_step >= 0) || !std::isfinite(first_step))
    throw InvalidArgument(
        cat("SolveOptions: first_step = ", num(first_step), " must be >= 0 (0 = automatic)"));
  if (!(safety > 0 && safety <= 1))
    throw InvalidArgument(cat("SolveOptions: safety = ", num(safety), " must be in (0, 1]"));
  if (!(ifactor >= 1) || !std::isfinite(ifactor))
    throw InvalidArgument(
        cat("SolveOptions: ifactor = ", num(ifactor), " must be finite and >= 1"));
  if (!(dfactor > 0 && dfactor <= 1))
    throw InvalidArgument(cat("SolveOptions: dfactor = ", num(dfactor), " must be in (0, 1]"));
  if (!(min_step >= 0) || !std::isfinite(min_step))
    throw InvalidArgument(
        cat("SolveOptions: min_step = ", num(min_step), " must be finite and >= 0"));
  if (!(max_step > 0))
    throw InvalidArgument(
        cat("SolveOptions: max_step = ", num(max_step), " must be > 0 (infinity allowed)"));
  if (min_step > max_step)
    throw InvalidArgument(
        cat("SolveOptions: min_step = ", num(min_step), " exceeds max_step = ", num(max_step)));
  if (!(pi_beta >= 0 && pi_beta < 0.2))
    throw InvalidArgument(
        cat("SolveOptions: pi_beta = ", num(pi_beta),
            " must be in [0, 0.2) (0.04 is the DOPRI5 default; 0 is the I-controller)"));
  if (max_num_steps <= 0)
    throw InvalidArgument(cat("SolveOptions: max_num_steps = ", max_num_steps, " must be > 0"));
  for (std::size_t i = 0; i < grid.size(); ++i) {
    if (!std::isfinite(grid[i]))
      throw InvalidArgument(cat("SolveOptions: grid[", i, "] = ", num(grid[i]), " is not finite"));
    if (i >= 2 && (grid[i] - grid[i - 1]) * (grid[1] - grid[0]) <= 0)
      throw InvalidArgument(cat("SolveOptions: grid must be strictly monotone; grid[", i, "] = ",
                                num(grid[i]), " after grid[", i - 1, "] = ", num(grid[i - 1])));
  }
  if (grid.size() == 1)
    throw InvalidArgument("SolveOptions: grid needs at least 2 points (or leave it empty)");
  if (grid.size() >= 2 && grid[1] == grid[0])
    throw InvalidArgument(cat("SolveOptions: grid must be strictly monotone; grid[1] = ",
                              num(grid[1]), " equals grid[0]"));
}

}  // namespace neuralode::ode
