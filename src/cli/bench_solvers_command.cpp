// `neuralode bench solvers`: a work-precision table (error, nfe, steps, time against tolerance)
// for every adaptive method in the registry on the built-in problems with known references.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/solver_flags.hpp"
#include "cli/work_precision.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "neuralode/ode/problems.hpp"
#include "neuralode/ode/solve_options.hpp"

namespace neuralode::cli {

namespace {

struct BenchSolversArgs {
  bool json = false;
  std::vector<std::string> problems;
  std::vector<std::string> methods;
  std::vector<double> tolerances = {1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10};
  std::int64_t max_steps = kWorkPrecisionMaxSteps;
  // The step-size control of every solve (the shared solver flags; method, tolerances and the
  // cap are the table's own flags above).
  ode::SolveOptions base;
};

std::vector<std::string> problems_with_reference() {
  std::vector<std::string> names;
  for (const ode::Problem& p : ode::builtin_problems())
    if (p.has_reference()) names.push_back(p.name);
  return names;
}

std::vector<std::string> adaptive_methods() {
  std::vector<std::string> names;
  for (const ode::ButcherTableau* t : ode::all_methods())
    if (t->adaptive()) names.push_back(t->name);
  return names;
}

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : ", ") + w;
  return text;
}

void run_bench_solvers(const BenchSolversArgs& args) {
  // Check every name and value before the first solve, so a typo fails at once with the accepted
  // words, and the whole table is known to be measurable before any of it is printed.
  auto refuse = [](const std::string& what) { throw InvalidArgument("bench solvers: " + what); };
  if (args.problems.empty() || args.methods.empty() || args.tolerances.empty())
    refuse(detail::cat(args.problems.empty()  ? "--problems"
                       : args.methods.empty() ? "--methods"
                                              : "--tolerances",
                       " is empty; accepted: a comma-separated list of at least one value"));
  std::vector<const ode::Problem*> problems;
  for (const std::string& name : args.problems) {
    const ode::Problem* problem = nullptr;
    try {
      problem = &ode::find_problem(name);
    } catch (const InvalidArgument&) {
      problem = nullptr;
    }
    // A point without a reference would be printed with no error: an unchecked result.
    if (!problem || !problem->has_reference())
      refuse(detail::cat("--problems: '", name, "' ",
                         problem ? "has no reference solution, so its error cannot be measured"
                                 : "is not a built-in problem",
                         "; accepted: ", join(problems_with_reference())));
    problems.push_back(problem);
  }
  for (const std::string& name : args.methods) {
    const ode::ButcherTableau* tableau = nullptr;
    for (const ode::ButcherTableau* t : ode::all_methods())
      if (t->name == name) tableau = t;
    if (!tableau || !tableau->adaptive())
      refuse(detail::cat("--methods: '", name, "' ",
                         tableau ? "has no error estimate, so tolerances do not apply"
                                 : "is not a registered method",
                         "; accepted: ", join(adaptive_methods())));
  }
  for (double tol : args.tolerances) {
    // The same checks as the solves' (positive, finite, resolvable in double), named by flag.
    ode::SolveOptions options;
    options.rtol = options.atol = tol;
    try {
      options.validate();
    } catch (const InvalidArgument& e) {
      refuse(detail::cat("--tolerances: ", detail::num(tol),
                         " is not usable as rtol = atol: ", e.what()));
    }
  }

  std::vector<WorkPrecisionPoint> points;
  std::size_t failed = 0;
  std::string first_failure;
  for (const ode::Problem* problem : problems)
    for (const std::string& method : args.methods)
      for (double tol : args.tolerances) {
        WorkPrecisionPoint point =
            measure_work_precision(*problem, method, tol, {}, args.max_steps, args.base);
        if (!point.failure.empty() && failed++ == 0)
          first_failure = detail::cat(problem->name, ", ", method, ", tol ", detail::num(tol), ": ",
                                      point.failure);
        if (args.json)
          std::cout << work_precision_json(point) << std::endl;  // a line per point, as it finishes
        else
          points.push_back(std::move(point));
      }
  if (!args.json) print_work_precision_table(std::cout, points);
  // The table is complete either way; a failed point still makes the run fail, so that a script
  // does not take a table with holes for a measurement.
  if (failed > 0)
    throw SolveError(detail::cat("bench solvers: ", failed, " of ",
                                 problems.size() * args.methods.size() * args.tolerances.size(),
                                 " points failed (the table says why); first: ", first_failure));
}

}  // namespace

void add_bench_solvers_command(CLI::App& root) {
  auto args = std::make_shared<BenchSolversArgs>();
  args->problems = problems_with_reference();
  args->methods = adaptive_methods();
  CLI::App* cmd = bench_group(root).add_subcommand(
      "solvers",
      "Work-precision table: for each problem, adaptive method and rtol = atol = tol, the max-abs "
      "error at t1 against the reference, nfe, accepted and rejected steps, and the median wall "
      "time "
      "of repeated solves (at least 5 and 5 ms, unless they take over 0.25 s)");
  cmd->add_flag("--json", args->json, "Print one JSON object per line instead of a table");
  cmd->add_option("--problems", args->problems,
                  "Comma-separated built-in problems (of: " + ode::problem_names() + ")")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--methods", args->methods,
                  "Comma-separated adaptive methods (of: " + join(adaptive_methods()) + ")")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--tolerances", args->tolerances,
                  "Comma-separated values of rtol = atol, each a finite number > 0 and at least "
                  "1.1e-16 (the unit roundoff of double)")
      ->delimiter(',')
      ->check(positive_real())
      ->capture_default_str();
  cmd->add_option("--max-steps", args->max_steps,
                  "Cap on attempted steps per solve; a point that needs more fails (and so does "
                  "the run, after the whole table)")
      ->check(integer_at_least(1))
      ->capture_default_str();
  add_solve_flags(*cmd, args->base, "",
                  {.method = false, .tolerances = false, .step_size = false, .max_steps = false});
  cmd->callback([args] { run_bench_solvers(*args); });
}

}  // namespace neuralode::cli
