// Work-precision measurements for `neuralode bench solvers` and `neuralode demo`: solve a
// built-in problem at rtol = atol = tol, compare with its reference, and time the solve.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "neuralode/ode/problems.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/ode/solve_stats.hpp"

namespace neuralode::cli {

// How long to time one (problem, method, tolerance) point. Repetitions continue until both
// minimums are met, so that a median of microsecond solves is not clock noise, unless a maximum
// comes first: a low-order method at 1e-10 (heun_euler: ~1 s a solve) is timed once rather than
// holding up the whole table.
struct TimingBudget {
  int min_repetitions = 5;
  double min_total_seconds = 5e-3;
  int max_repetitions = 1000;
  double max_total_seconds = 0.25;
};

// The step cap of a work-precision solve. The library's default (10^6) is for runaway solves; a
// work-precision point is a solve chosen on purpose, and heun_euler at 1e-10 takes 1.7 M steps on
// `linear` (~0.3 s). 10^7 keeps every default point of `bench solvers` measurable and still ends
// a hopeless one (heun_euler at 2e-16) in about a second.
inline constexpr std::int64_t kWorkPrecisionMaxSteps = 10'000'000;

struct WorkPrecisionPoint {
  std::string problem;
  std::string method;
  double tolerance = 0;         // rtol = atol
  std::optional<double> error;  // max-abs error at t1 against the reference; none if unknown
  ode::SolveStats stats;        // of the untimed first solve (every repetition is identical)
  double median_seconds = 0;    // median wall time of the timed repetitions
  int repetitions = 0;
  std::string failure;  // the SolveError message when the solve failed; empty otherwise
};

// Solves `problem` (batch 1, default interval, output at t1 only) with `method` at
// rtol = atol = tolerance: once untimed (sizes the workspace, gives error and stats), then timed
// with steady_clock per `budget`, reusing workspace and solution so no repetition allocates.
// A SolveError is recorded in `failure`; bad arguments (unknown method) throw InvalidArgument.
// `max_num_steps` caps each solve; past it the point fails with a SolveError. `base` gives every
// other setting of the solves (the step-size controller and its coefficients, safety, factors,
// first_step: `bench solvers`' shared solver flags); its method, tolerances and cap are replaced.
WorkPrecisionPoint measure_work_precision(const ode::Problem& problem, const std::string& method,
                                          double tolerance, const TimingBudget& budget = {},
                                          std::int64_t max_num_steps = kWorkPrecisionMaxSteps,
                                          const ode::SolveOptions& base = {});

// An aligned table, one row per point, with a header; a blank line between problems.
void print_work_precision_table(std::ostream& out, const std::vector<WorkPrecisionPoint>& points);

// One JSON object (single line, no trailing newline): problem, method, rtol, atol, error (null
// when unknown), nfe, accepted, rejected, microseconds (median), repetitions, and failure when set.
std::string work_precision_json(const WorkPrecisionPoint& point);

}  // namespace neuralode::cli
