// The checks of one solve's inputs that need no step, run by odeint before any work: times, y0,
// the options against the problem (SolveOptions::validate runs first, from here), the step count
// of a fixed-step solve, and the quadrature's q. Each message names the bad value and what is
// accepted.
#include "ode/solve_inputs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "ode/finite.hpp"

namespace neuralode::ode::detail {

using neuralode::detail::cat;
using neuralode::detail::num;

// Whether a solve steps on a fixed grid (no error control) or adaptively.
bool is_fixed_step(const ButcherTableau& tab, const SolveOptions& options) {
  return !tab.adaptive() || options.step_size > 0 || !options.grid.empty();
}

namespace {

template <class Scalar>
constexpr const char* scalar_name() {
  return std::is_same_v<Scalar, float> ? "float" : "double";
}

// Every check of the inputs that needs no step, run once before any work (the caller checks q and
// the norm weights against the system's quadrature).
template <class Scalar>
void check_times_and_state(ConstMatrixView<Scalar> y0, std::span<const Scalar> times,
                           const SolveOptions& options) {
  if (times.empty())
    throw InvalidArgument(
        "odeint: times is empty; accepted: at least one time (times[0] is the initial time)");
  if (y0.rows() <= 0 || y0.cols() <= 0)
    throw InvalidArgument(cat("odeint: y0 is ", y0.rows(), " x ", y0.cols(),
                              "; accepted: batch >= 1 rows and dim >= 1 columns"));
  options.validate(y0.rows(), y0.cols(),
                   static_cast<double>(std::numeric_limits<Scalar>::epsilon()));
  for (std::size_t i = 0; i < times.size(); ++i)
    if (!std::isfinite(static_cast<double>(times[i])))
      throw InvalidArgument(cat("odeint: times[", i, "] = ", num(times[i]),
                                " is not finite; accepted: finite times"));
  if (times.size() >= 2) {
    const bool forward = times[1] > times[0];
    for (std::size_t i = 1; i < times.size(); ++i) {
      if (times[i] == times[i - 1])
        throw InvalidArgument(cat("odeint: times must be strictly increasing or decreasing; times[",
                                  i, "] = ", num(times[i]), " equals times[", i - 1, "]"));
      if ((times[i] > times[i - 1]) != forward)
        throw InvalidArgument(
            cat("odeint: times must be strictly ", forward ? "increasing" : "decreasing",
                " (set by times[0] -> times[1]); times[", i, "] = ", num(times[i]), " after times[",
                i - 1, "] = ", num(times[i - 1])));
    }
  }
  const Index n = y0.size();
  if (const Index i = first_nonfinite(y0.data(), n); i < n)
    throw InvalidArgument(cat("odeint: y0 has a non-finite value ", num(y0.data()[i]),
                              " at sample ", i / y0.cols(), ", component ", i % y0.cols(),
                              "; accepted: finite initial values"));
  if (times.size() < 2) return;  // no step will be taken

  const double t0 = static_cast<double>(times.front()), t1 = static_cast<double>(times.back());
  // The span must be a finite Scalar: the steps and the underflow test are computed from it.
  const Scalar span_scalar = times.back() - times.front();
  if (!std::isfinite(static_cast<double>(span_scalar)))
    throw InvalidArgument(cat("odeint: the interval from times[0] = ", num(t0),
                              " to times.back() = ", num(t1), " is longer than ",
                              scalar_name<Scalar>(),
                              " can hold (t1 - t0 overflows); accepted: |t1 - t0| <= ",
                              num(static_cast<double>(std::numeric_limits<Scalar>::max()))));
  const double span = std::abs(t1 - t0);
  const double eps = static_cast<double>(std::numeric_limits<Scalar>::epsilon());
  const ButcherTableau& tab = find_method(options.method);
  const bool adaptive = tab.adaptive() && options.step_size == 0 && options.grid.empty();

  // The number of steps a fixed-step solve takes is known now: refuse one beyond max_num_steps
  // before the first step rather than after hours of steps.
  auto refuse_steps = [&](double steps, const std::string& how, const char* fix) {
    throw InvalidArgument(cat("odeint: this fixed-step solve would take ",
                              std::isfinite(steps) ? num(steps) : std::string("over 1.8e+308"),
                              " steps (", how,
                              "), more than max_num_steps = ", options.max_num_steps,
                              "; accepted: at most max_num_steps steps; ", fix));
  };
  const auto max_steps = static_cast<double>(options.max_num_steps);
  if (!options.grid.empty()) {
    const auto& g = options.grid;
    // The grid must start at the initial time and reach the last output time, in the same
    // direction.
    if (g.front() != t0 || ((g[1] > g[0]) != (t1 > t0)) ||
        (t1 > t0 ? g.back() < t1 : g.back() > t1))
      throw InvalidArgument(cat(
          "odeint: grid must start at times[0] = ", num(t0), " and run to times.back() = ", num(t1),
          " in the same direction; it runs from ", num(g.front()), " to ", num(g.back())));
    // Steps up to the last output time; each must be a nonzero step in Scalar (a grid of distinct
    // doubles can repeat a float, and a zero step divides dense output by zero).
    std::size_t steps = 0;
    for (std::size_t i = 1; i < g.size(); ++i) {
      if (static_cast<Scalar>(g[i]) == static_cast<Scalar>(g[i - 1]))
        throw InvalidArgument(cat("odeint: grid[", i, "] = ", num(g[i]), " and grid[", i - 1,
                                  "] = ", num(g[i - 1]), " are the same ", scalar_name<Scalar>(),
                                  "; accepted: grid points distinct in the solve's scalar type"));
      ++steps;
      if ((t1 > t0) ? g[i] >= t1 : g[i] <= t1) break;
    }
    if (static_cast<double>(steps) > max_steps)
      refuse_steps(static_cast<double>(steps), cat("one per grid interval up to times.back()"),
                   "raise max_num_steps (--max-steps) or use a coarser grid");
  } else if (options.step_size > 0) {
    // t0 + k h for k = 1, 2, ...; a last sliver under 1e-6 h is merged into the step before.
    const double steps = std::ceil(span / options.step_size - 1e-6);
    if (!(steps <= max_steps))  // also when span / step_size overflows
      refuse_steps(steps,
                   cat("|t1 - t0| = ", num(span), " over step_size = ", num(options.step_size)),
                   "raise max_num_steps (--max-steps) or step_size, or shorten the interval");
    // A step the time axis cannot resolve: t0 + k h would repeat times or make steps of 0.
    const double resolution = 16 * eps * std::max(std::abs(t0), std::abs(t1));
    if (options.step_size < resolution)
      throw InvalidArgument(cat("odeint: step_size = ", num(options.step_size),
                                " is below 16*eps*max(|t0|, |t1|) = ", num(resolution),
                                ", the smallest step ", scalar_name<Scalar>(),
                                " resolves at t = ", num(std::max(std::abs(t0), std::abs(t1))),
                                "; accepted: step_size >= ", num(resolution)));
  } else if (!tab.adaptive() && static_cast<double>(times.size() - 1) > max_steps) {
    refuse_steps(static_cast<double>(times.size() - 1), "one per output interval",
                 "raise max_num_steps (--max-steps) or give fewer output times");
  }
  // Adaptive steps below 16 eps |t1 - t0| (over 10^14 of them to cover the interval) end the
  // solve after kMaxTinyAttempts of them in a row (run_adaptive); a first step or a step bound
  // that keeps them there is refused now instead.
  const double span_floor = 16 * eps * span;
  if (adaptive && options.first_step > 0 && options.first_step < span_floor)
    throw InvalidArgument(cat("odeint: first_step = ", num(options.first_step),
                              " is below 16*eps*|t1 - t0| = ", num(span_floor),
                              ", a size at which the interval would take over 10^14 steps; "
                              "accepted: first_step >= ",
                              num(span_floor), ", or 0 (automatic)"));
  if (adaptive && options.max_step < span_floor)
    throw InvalidArgument(cat("odeint: max_step = ", num(options.max_step),
                              " is below 16*eps*|t1 - t0| = ", num(span_floor),
                              ", a size at which the interval would take over 10^14 steps; "
                              "accepted: max_step >= ",
                              num(span_floor)));
  if (adaptive && options.first_step > span)
    throw InvalidArgument(cat("odeint: first_step = ", num(options.first_step),
                              " exceeds the interval |times.back() - times[0]| = ", num(span),
                              "; accepted: first_step in (0, ", num(span), "], or 0 (automatic)"));
}

}  // namespace

template <class Scalar>
void check_solve_inputs(ConstMatrixView<Scalar> y0, std::span<const Scalar> q,
                        std::span<const Scalar> times, const SolveOptions& options,
                        Index quadrature_size) {
  check_times_and_state(y0, times, options);
  const Index nq = quadrature_size;
  if (static_cast<Index>(q.size()) != nq)
    throw InvalidArgument(
        nq == 0 ? cat("odeint: q has ", q.size(),
                      " values but the system has no quadrature (quadrature_size() = 0); pass "
                      "an empty q")
                : cat("odeint: the system has a quadrature of ", nq,
                      " components; pass q with that many values (q(times[0]) in, "
                      "q(times.back()) out), not ",
                      q.size()));
  if (nq > 0 && times.size() > 2)
    throw InvalidArgument(
        cat("odeint: a system with a quadrature is solved over one interval (at most 2 output "
            "times): q is returned at times.back() only, with no dense output; got ",
            times.size(), " times. Solve interval by interval, passing q on"));
  for (Index m = 0; m < nq; ++m)
    if (!std::isfinite(static_cast<double>(q[static_cast<std::size_t>(m)])))
      throw InvalidArgument(cat("odeint: q has a non-finite value ",
                                num(q[static_cast<std::size_t>(m)]), " at component ", m,
                                "; accepted: finite initial values"));
  const ButcherTableau& tab = find_method(options.method);
  const bool adaptive = !is_fixed_step(tab, options);
  // All-zero weights leave nothing in the error norm (unless a weighted quadrature is): every
  // step would be accepted, error control silently off.
  if (adaptive && !options.norm_weights.empty() &&
      (nq == 0 || options.quadrature_norm_weight == 0) &&
      std::all_of(options.norm_weights.begin(), options.norm_weights.end(),
                  [](double w) { return w == 0; }))
    throw InvalidArgument(cat(
        "odeint: norm_weights are all 0 (", options.norm_weights.size(),
        " entries), which leaves no component in the error norm and switches error control off; "
        "accepted: at least one weight > 0",
        nq > 0 ? " (or quadrature_norm_weight > 0)" : "",
        "; for steps without error control set step_size or use a fixed-step method"));
}

template void check_solve_inputs<float>(ConstMatrixView<float>, std::span<const float>,
                                        std::span<const float>, const SolveOptions&, Index);
template void check_solve_inputs<double>(ConstMatrixView<double>, std::span<const double>,
                                         std::span<const double>, const SolveOptions&, Index);

}  // namespace neuralode::ode::detail
