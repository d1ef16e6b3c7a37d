// SolveOptions::validate and the Controller word round-trip.
#include "neuralode/ode/solve_options.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"

namespace neuralode::ode {

using detail::cat;
using detail::num;

std::string_view to_string(Controller c) {
  switch (c) {
    case Controller::i: return "i";
    case Controller::pi: return "pi";
    case Controller::pid: return "pid";
  }
  return "?";
}

Controller parse_controller(std::string_view word) {
  if (word == "i") return Controller::i;
  if (word == "pi") return Controller::pi;
  if (word == "pid") return Controller::pid;
  throw InvalidArgument(cat("unknown step-size controller '", word, "'; accepted: i, pi, pid"));
}

namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw InvalidArgument("SolveOptions: " + what);
}

// "a finite number > 0" style checks: `field = value is out of range; accepted: ...`.
void require_positive(const char* field, double value, const char* note = "") {
  if (!(value > 0) || !std::isfinite(value))
    refuse(cat(field, " = ", num(value), " is out of range; accepted: a finite number > 0", note));
}

// A per-component vector applies to every sample (size dim) or to each component (batch*dim).
void require_component_size(const char* field, std::size_t size, std::int64_t batch,
                            std::int64_t dim) {
  if (size == 0 || dim <= 0) return;
  if (static_cast<std::int64_t>(size) != dim && static_cast<std::int64_t>(size) != batch * dim)
    refuse(cat(field, " has ", size, " entries, which matches neither the state's dim = ", dim,
               " nor batch*dim = ", batch * dim, "; accepted: ", dim,
               " entries (one per component, ", "for every sample) or ", batch * dim,
               " (one per component of every sample)"));
}

const char* scalar_name(double epsilon) {
  if (epsilon == static_cast<double>(std::numeric_limits<float>::epsilon())) return "float";
  if (epsilon == std::numeric_limits<double>::epsilon()) return "double";
  return "the scalar type";
}

}  // namespace

void SolveOptions::validate(std::int64_t batch, std::int64_t dim, double scalar_epsilon) const {
  // ---- Method and controller ----
  const ButcherTableau* tableau = nullptr;
  try {
    tableau = &find_method(method);
  } catch (const InvalidArgument& e) {
    refuse(e.what());  // "unknown method 'x'; accepted: euler, ..."
  }
  if (controller != Controller::i && controller != Controller::pi && controller != Controller::pid)
    refuse(cat("controller = ", static_cast<int>(controller),
               " is not a Controller; accepted: Controller::i, Controller::pi, Controller::pid"));
  for (auto [field, value] : {std::pair{"pcoeff", pcoeff}, {"icoeff", icoeff}, {"dcoeff", dcoeff}})
    if (!std::isfinite(value))
      refuse(cat(field, " = ", num(value), " is not finite; accepted: a finite number"));
  if (!(icoeff > 0))
    refuse(cat("icoeff = ", num(icoeff),
               " is out of range; accepted: a finite number > 0 (1 by default; the integral "
               "term is what makes the step follow the error)"));

  // ---- Tolerances ----
  require_positive("rtol", rtol, " (1e-7 by default; ~1e-3 is usually enough while training)");
  require_positive("atol", atol, " (1e-9 by default)");
  for (std::size_t i = 0; i < atol_per_component.size(); ++i)
    if (!(atol_per_component[i] > 0) || !std::isfinite(atol_per_component[i]))
      refuse(cat("atol_per_component[", i, "] = ", num(atol_per_component[i]),
                 " is out of range; accepted: a finite number > 0"));
  require_component_size("atol_per_component", atol_per_component.size(), batch, dim);
  // Below the unit roundoff u = eps/2 no step can meet the tolerance except by luck (see the
  // field's comment for the rule and its sources).
  const double u = 0.5 * scalar_epsilon;
  double min_atol = atol;
  for (double a : atol_per_component) min_atol = std::min(min_atol, a);
  if (rtol < u && min_atol < u)
    refuse(cat("rtol = ", num(rtol), " and atol = ", num(min_atol),
               " are both below the unit roundoff of ", scalar_name(scalar_epsilon),
               " (u = eps/2 = ", num(u), ", eps = ", num(scalar_epsilon),
               "): no step can meet such a tolerance; accepted: rtol >= ", num(u),
               " or atol >= ", num(u),
               " (rtol ~ 1e-12 is about the tightest that pays off in double, 1e-6 in "
               "float)"));

  // ---- Norm weights ----
  for (std::size_t i = 0; i < norm_weights.size(); ++i)
    if (!(norm_weights[i] >= 0) || !std::isfinite(norm_weights[i]))
      refuse(cat("norm_weights[", i, "] = ", num(norm_weights[i]),
                 " is out of range; accepted: a finite number >= 0 (0 masks the component)"));
  require_component_size("norm_weights", norm_weights.size(), batch, dim);
  if (!(quadrature_norm_weight >= 0) || !std::isfinite(quadrature_norm_weight))
    refuse(cat("quadrature_norm_weight = ", num(quadrature_norm_weight),
               " is out of range; accepted: a finite number >= 0 (1 = full norm, 0 = seminorm)"));

  // ---- Fixed steps ----
  if (!(step_size >= 0) || !std::isfinite(step_size))
    refuse(cat("step_size = ", num(step_size),
               " is out of range; accepted: a finite number >= 0 (0 = adaptive steps, or output "
               "time to output time for a fixed-step method)"));
  for (std::size_t i = 0; i < grid.size(); ++i) {
    if (!std::isfinite(grid[i]))
      refuse(cat("grid[", i, "] = ", num(grid[i]), " is not finite; accepted: finite times"));
    if (i >= 2 && (grid[i] - grid[i - 1]) * (grid[1] - grid[0]) <= 0)
      refuse(cat("grid must be strictly monotone; grid[", i, "] = ", num(grid[i]), " after grid[",
                 i - 1, "] = ", num(grid[i - 1])));
  }
  if (grid.size() == 1)
    refuse(cat("grid has 1 point (", num(grid[0]),
               "); accepted: at least 2 points from times[0] on, or an empty grid"));
  if (grid.size() >= 2 && grid[1] == grid[0])
    refuse(cat("grid must be strictly monotone; grid[1] = ", num(grid[1]), " equals grid[0]"));
  if (!grid.empty() && step_size > 0)
    refuse(cat("grid (", grid.size(), " points) and step_size = ", num(step_size),
               " are both set, and only one of them can define the steps; accepted: one of "
               "them (set step_size = 0 to step on the grid, or clear the grid)"));
  const bool fixed = !tableau->adaptive() || step_size > 0 || !grid.empty();

  // ---- Step-size control ----
  if (!(first_step >= 0) || !std::isfinite(first_step))
    refuse(cat("first_step = ", num(first_step),
               " is out of range; accepted: a finite number >= 0 (0 = automatic; a magnitude: the "
               "times give the direction)"));
  if (first_step > 0 && fixed)
    refuse(cat("first_step = ", num(first_step), " has no effect on a fixed-step solve (",
               !tableau->adaptive() ? cat("method ", method, " has no error estimate")
               : step_size > 0      ? cat("step_size = ", num(step_size), " is set")
                                    : std::string("a grid is set"),
               "); accepted: first_step = 0 here, or an adaptive method without step_size and "
               "grid"));
  if (!(safety > 0 && safety <= 1))
    refuse(cat("safety = ", num(safety), " is out of range; accepted: (0, 1] (0.9 by default)"));
  if (!(ifactor >= 1) || !std::isfinite(ifactor))
    refuse(cat("ifactor = ", num(ifactor),
               " is out of range; accepted: a finite number >= 1 (10 by default)"));
  if (!(dfactor > 0 && dfactor < 1))
    refuse(cat("dfactor = ", num(dfactor),
               " is out of range; accepted: (0, 1), so that a rejected step shrinks (0.2 by "
               "default)"));
  if (!(min_step >= 0) || !std::isfinite(min_step))
    refuse(cat("min_step = ", num(min_step),
               " is out of range; accepted: a finite number >= 0 (0 = no lower bound)"));
  if (!(max_step > 0))
    refuse(cat("max_step = ", num(max_step),
               " is out of range; accepted: a number > 0 (infinity = no upper bound)"));
  if (min_step > max_step)
    refuse(cat("min_step = ", num(min_step), " exceeds max_step = ", num(max_step),
               "; accepted: min_step <= max_step"));
  if (first_step > 0 && (first_step < min_step || first_step > max_step))
    refuse(cat("first_step = ", num(first_step), " lies outside [min_step, max_step] = [",
               num(min_step), ", ", num(max_step), "]; accepted: a first step within the bounds, ",
               "or 0 (automatic)"));
  if (!(pi_beta >= 0 && pi_beta < 0.2))
    refuse(cat("pi_beta = ", num(pi_beta),
               " is out of range; accepted: [0, 0.2) (0.04 is the DOPRI5 default; 0 is the "
               "I-controller)"));
  if (max_num_steps <= 0)
    refuse(cat("max_num_steps = ", max_num_steps, " is out of range; accepted: an integer >= 1"));
}

}  // namespace neuralode::ode
