// `neuralode demo` (what `make run` runs): the Arenstorf orbit solved by four methods at a few
// tolerances, one solve's statistics, and what to try next. Takes well under a second.
#include <cstdio>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/work_precision.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/odeint.hpp"
#include "neuralode/ode/problems.hpp"
#include "neuralode/version.hpp"

namespace neuralode::cli {

namespace {

void run_demo() {
  const ode::Problem& problem = ode::find_problem("arenstorf");
  std::cout << "neuralode " NEURALODE_VERSION_STRING " demo: the Arenstorf orbit\n"
            << "  " << problem.description << "\n"
            << "  solved over one period from t = 0 to t = " << problem.t1
            << "; error = max |y(T) - y0| (" << problem.reference_note << ")\n\n";

  // Few repetitions: the demo shows the shape of the trade-off, `bench solvers` measures it.
  const TimingBudget budget{.min_repetitions = 3, .min_total_seconds = 1e-3, .max_repetitions = 50};
  std::vector<WorkPrecisionPoint> points;
  for (const char* method : {"bosh3", "dopri5", "tsit5", "dopri8"})
    for (double tol : {1e-4, 1e-6, 1e-8})
      points.push_back(measure_work_precision(problem, method, tol, budget));
  print_work_precision_table(std::cout, points);
  // Every point is a well-posed solve; one that failed means the build is broken, and `make run`
  // must not report success over it.
  for (const WorkPrecisionPoint& p : points)
    if (!p.failure.empty())
      throw SolveError("demo: the " + p.method + " solve of " + p.problem +
                       " failed: " + p.failure);

  ode::SolveOptions options;
  options.method = "dopri5";
  options.rtol = options.atol = 1e-8;
  ode::ProblemSystem system(problem);
  const ode::Solution<double> solution =
      ode::odeint(system, problem.initial_state(1), {problem.t0, problem.t1}, options);
  const auto y1 = solution.state(1);
  const std::optional<double> error =
      problem.error(problem.t0, problem.t1, std::span<const double>(y1.data(), y1.size()));
  char line[96];
  std::snprintf(line, sizeof line, "error at T           %.3e\n", error.value_or(0.0));
  std::cout << "\nOne solve in detail (dopri5, rtol = atol = 1e-8):\n"
            << solution.stats.report() << line;

  std::cout
      << "\nTry next: `neuralode solve --help`, e.g. `neuralode solve --problem kepler --method "
         "dopri8 --rtol 1e-10 --format json`, or `neuralode bench solvers` for the full table.\n";
}

}  // namespace

void add_demo_command(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("demo",
                                      "A short tour: the Arenstorf orbit solved by bosh3, dopri5, "
                                      "tsit5 and dopri8 (what `make run` runs)");
  cmd->callback(run_demo);
}

}  // namespace neuralode::cli
