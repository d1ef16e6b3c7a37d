// `neuralode solve`: solve a built-in problem (batch 1) and print the trajectory as CSV or a JSON
// summary. Flags map one to one onto ode::SolveOptions (the shared solver flags).
#include <charconv>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/ode_flags.hpp"
#include "cli/solver_flags.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "neuralode/ode/odeint.hpp"
#include "neuralode/ode/problems.hpp"

namespace neuralode::cli {

namespace {

struct SolveArgs {
  std::string problem;
  ode::SolveOptions options;
  double t0 = 0;
  double t1 = 0;
  int saveat = 100;  // at most kMaxSaveat
  std::string format = "csv";
  CLI::Option* t0_flag = nullptr;
  CLI::Option* t1_flag = nullptr;
};

// CSV rows are held in memory (the solution and the text): 10^6 rows of a 4-dimensional problem
// are ~150 MB, far more than a plot needs; beyond that a typo (--saveat 1000000000) would exhaust
// the machine's memory instead of printing anything.
constexpr int kMaxSaveat = 1'000'000;

// Shortest text that reads back as the same double.
std::string shortest(double x) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, result.ptr);
}

std::string problems_footer() {
  std::string text = "Problems (default interval [t0, t1]; reference):\n";
  for (const ode::Problem& p : ode::builtin_problems()) {
    text += "  " + p.name + std::string(p.name.size() < 16 ? 16 - p.name.size() : 1, ' ') +
            p.description + "\n" + std::string(18, ' ') + "[" + shortest(p.t0) + ", " +
            shortest(p.t1) + "]; " + p.reference_note + "\n";
  }
  return text;
}

void run_solve(const SolveArgs& args) {
  const ode::Problem& problem = ode::find_problem(args.problem);
  const ode::SolveOptions& options = args.options;
  const double t0 = args.t0_flag->count() > 0 ? args.t0 : problem.t0;
  const double t1 = args.t1_flag->count() > 0 ? args.t1 : problem.t1;
  const bool json = args.format == "json";
  // The interval in the flags' words (odeint would name times[0] and times[1]).
  const auto interval = [&] {
    return detail::cat("--t0 = ", shortest(t0), args.t0_flag->count() > 0 ? "" : " (default)",
                       " and --t1 = ", shortest(t1), args.t1_flag->count() > 0 ? "" : " (default)");
  };
  if (t1 == t0)
    throw InvalidArgument(detail::cat(
        "solve: ", interval(), " are equal; accepted: --t1 != --t0 (time may run backwards)"));
  if (!std::isfinite(t1 - t0))
    throw InvalidArgument(detail::cat("solve: ", interval(),
                                      ": t1 - t0 overflows a double; accepted: |t1 - t0| <= ",
                                      detail::num(std::numeric_limits<double>::max())));

  // JSON reports the end point only, so no output time adds Hermite evaluations to nfe.
  std::vector<double> times;
  if (json) {
    times = {t0, t1};
  } else {
    times.reserve(static_cast<std::size_t>(args.saveat) + 1);
    for (int i = 0; i <= args.saveat; ++i) times.push_back(t0 + (t1 - t0) * i / args.saveat);
    times.back() = t1;
    for (std::size_t i = 1; i < times.size(); ++i)
      if (!(t1 > t0 ? times[i] > times[i - 1] : times[i] < times[i - 1]))
        throw InvalidArgument(detail::cat(
            "solve: --saveat ", args.saveat, " over ", interval(), " gives save times ",
            shortest(times[i - 1]), " and ", shortest(times[i]),
            " that a double cannot tell apart (spacing ", detail::num((t1 - t0) / args.saveat),
            "); accepted: a smaller --saveat or a longer interval"));
  }
  ode::ProblemSystem system(problem);
  const ode::Solution<double> solution =
      ode::odeint(system, problem.initial_state(1), times, options);

  if (json) {
    const auto y1 = solution.state(solution.num_times() - 1);
    const std::vector<double> y1_values(y1.data(), y1.data() + y1.size());
    const std::optional<double> error = problem.error(t0, t1, y1_values);
    nlohmann::ordered_json j;
    j["problem"] = problem.name;
    j["method"] = solution.stats.method;
    j["rtol"] = options.rtol;
    j["atol"] = options.atol;
    j["step_size"] = options.step_size;
    j["t0"] = t0;
    j["t1"] = t1;
    j["y1"] = y1_values;
    j["error"] = error ? nlohmann::ordered_json(*error) : nlohmann::ordered_json(nullptr);
    j["nfe"] = solution.stats.nfe;
    j["accepted"] = solution.stats.num_accepted;
    j["rejected"] = solution.stats.num_rejected;
    j["microseconds"] = solution.stats.wall_seconds * 1e6;
    std::cout << j.dump() << "\n";
    return;
  }
  std::string out = "t";
  for (Index i = 0; i < problem.dim; ++i) out += ",y" + std::to_string(i);
  out += "\n";
  for (Index r = 0; r < solution.num_times(); ++r) {
    out += shortest(solution.times[static_cast<std::size_t>(r)]);
    const auto y = solution.state(r);
    for (Index i = 0; i < y.size(); ++i) out += "," + shortest(y.data()[i]);
    out += "\n";
    if (out.size() >= (std::size_t(1) << 20)) {  // print in ~1 MiB pieces, not all at the end
      std::cout << out;
      out.clear();
    }
  }
  std::cout << out;
}

}  // namespace

void add_solve_command(CLI::App& root) {
  auto args = std::make_shared<SolveArgs>();
  ode::SolveOptions& o = args->options;
  CLI::App* cmd = root.add_subcommand(
      "solve", "Solve a built-in problem and print the trajectory (CSV) or a summary (JSON)");
  // --problem is checked by find_problem, whose message lists the problems; the solver flags are
  // the shared ones (solver_flags.hpp), checked as they are parsed, and SolveOptions::validate
  // (inside odeint) checks the ranges that involve other fields and the scalar type.
  cmd->add_option("--problem", args->problem, "Built-in problem: " + ode::problem_names())
      ->required();
  add_solve_flags(*cmd, o, "Runge-Kutta method");
  args->t0_flag = cmd->add_option("--t0", args->t0, "Initial time (default: the problem's t0)")
                      ->check(finite_real());
  args->t1_flag = cmd->add_option("--t1", args->t1, "Final time (default: the problem's t1)")
                      ->check(finite_real());
  cmd->add_option("--saveat", args->saveat, "CSV: print N+1 equally spaced times from t0 to t1")
      ->check(integer_at_least(1, kMaxSaveat))
      ->capture_default_str();
  cmd->add_option(
         "--format", args->format,
         "csv: header t,y0,y1,... and one row per save time; json: one summary object "
         "{problem, method, rtol, atol, t1, y1, error, nfe, accepted, rejected, microseconds}, "
         "error = max-abs error at t1 against the reference (null if none)")
      ->check(one_of({"csv", "json"}))
      ->capture_default_str();
  cmd->footer(problems_footer());
  cmd->callback([args] { run_solve(*args); });
}

}  // namespace neuralode::cli
