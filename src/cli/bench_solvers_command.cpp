// `neuralode bench solvers`: a work-precision table (error, nfe, steps, time against tolerance)
// for every adaptive method in the registry on the built-in problems with known references.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/work_precision.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "neuralode/ode/problems.hpp"

namespace neuralode::cli {

namespace {

struct BenchSolversArgs {
  bool json = false;
  std::vector<std::string> problems;
  std::vector<std::string> methods;
  std::vector<double> tolerances = {1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10};
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
  // Resolve every name before the first solve, so a typo fails at once with the accepted names.
  std::vector<const ode::Problem*> problems;
  for (const std::string& name : args.problems) problems.push_back(&ode::find_problem(name));
  for (const std::string& name : args.methods)
    if (!ode::find_method(name).adaptive())
      throw InvalidArgument(
          detail::cat("bench solvers: method '", name,
                      "' has no error estimate, so tolerances do not apply; accepted: ",
                      join(adaptive_methods())));

  std::vector<WorkPrecisionPoint> points;
  for (const ode::Problem* problem : problems)
    for (const std::string& method : args.methods)
      for (double tol : args.tolerances) {
        WorkPrecisionPoint point = measure_work_precision(*problem, method, tol);
        if (args.json)
          std::cout << work_precision_json(point) << std::endl;  // a line per point, as it finishes
        else
          points.push_back(std::move(point));
      }
  if (!args.json) print_work_precision_table(std::cout, points);
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
  cmd->add_option("--tolerances", args->tolerances, "Comma-separated values of rtol = atol")
      ->delimiter(',')
      ->capture_default_str();
  cmd->callback([args] { run_bench_solvers(*args); });
}

}  // namespace neuralode::cli
