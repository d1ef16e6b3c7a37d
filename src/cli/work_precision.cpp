// Work-precision measurement and its two printed forms (table and JSON lines).
#include "cli/work_precision.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <span>

#include "neuralode/error.hpp"
#include "neuralode/ode/odeint.hpp"

namespace neuralode::cli {

namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

}  // namespace

WorkPrecisionPoint measure_work_precision(const ode::Problem& problem, const std::string& method,
                                          double tolerance, const TimingBudget& budget,
                                          std::int64_t max_num_steps,
                                          const ode::SolveOptions& base) {
  WorkPrecisionPoint point;
  point.problem = problem.name;
  point.method = method;
  point.tolerance = tolerance;

  ode::SolveOptions options = base;
  options.method = method;
  options.rtol = tolerance;
  options.atol = tolerance;
  options.max_num_steps = max_num_steps;  // kWorkPrecisionMaxSteps unless given
  ode::ProblemSystem system(problem);
  const Matrix<double> y0 = problem.initial_state(1);
  const std::vector<double> times = {problem.t0, problem.t1};
  ode::SolverWorkspace<double> workspace;
  ode::Solution<double> solution;
  auto solve = [&] {
    ode::odeint<double>(system, ConstMatrixView<double>(y0.data(), y0.rows(), y0.cols()),
                        std::span<const double>(times), options, workspace, solution);
  };

  try {
    solve();
  } catch (const SolveError& e) {
    point.failure = e.what();
    return point;
  }
  point.stats = solution.stats;
  const auto y1 = solution.state(1);
  point.error =
      problem.error(problem.t0, problem.t1, std::span<const double>(y1.data(), y1.size()));

  std::vector<double> seconds;
  seconds.reserve(static_cast<std::size_t>(budget.min_repetitions));
  double total = 0;
  auto more = [&] {
    const int done = static_cast<int>(seconds.size());
    if (done == 0) return true;
    if (done >= budget.max_repetitions || total >= budget.max_total_seconds) return false;
    return done < budget.min_repetitions || total < budget.min_total_seconds;
  };
  while (more()) {
    const auto start = std::chrono::steady_clock::now();
    solve();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    seconds.push_back(elapsed);
    total += elapsed;
  }
  point.repetitions = static_cast<int>(seconds.size());
  point.median_seconds = median(std::move(seconds));
  return point;
}

void print_work_precision_table(std::ostream& out, const std::vector<WorkPrecisionPoint>& points) {
  char line[256];
  std::snprintf(line, sizeof line, "%-15s %-11s %7s %10s %9s %9s %9s %12s\n", "problem", "method",
                "tol", "error", "nfe", "accepted", "rejected", "time [us]");
  out << line;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const WorkPrecisionPoint& p = points[i];
    if (i > 0 && points[i - 1].problem != p.problem) out << "\n";
    if (!p.failure.empty()) {
      std::snprintf(line, sizeof line, "%-15s %-11s %7.0e  failed: ", p.problem.c_str(),
                    p.method.c_str(), p.tolerance);
      out << line << p.failure << "\n";
      continue;
    }
    char error[32] = "-";
    if (p.error) std::snprintf(error, sizeof error, "%.2e", *p.error);
    std::snprintf(line, sizeof line, "%-15s %-11s %7.0e %10s %9lld %9lld %9lld %12.1f\n",
                  p.problem.c_str(), p.method.c_str(), p.tolerance, error,
                  static_cast<long long>(p.stats.nfe), static_cast<long long>(p.stats.num_accepted),
                  static_cast<long long>(p.stats.num_rejected), p.median_seconds * 1e6);
    out << line;
  }
}

std::string work_precision_json(const WorkPrecisionPoint& point) {
  nlohmann::ordered_json j;
  j["problem"] = point.problem;
  j["method"] = point.method;
  j["rtol"] = point.tolerance;
  j["atol"] = point.tolerance;
  if (!point.failure.empty()) {
    j["failure"] = point.failure;
    return j.dump();
  }
  j["error"] = point.error ? nlohmann::ordered_json(*point.error) : nlohmann::ordered_json(nullptr);
  j["nfe"] = point.stats.nfe;
  j["accepted"] = point.stats.num_accepted;
  j["rejected"] = point.stats.num_rejected;
  j["microseconds"] = point.median_seconds * 1e6;
  j["repetitions"] = point.repetitions;
  return j.dump();
}

}  // namespace neuralode::cli
