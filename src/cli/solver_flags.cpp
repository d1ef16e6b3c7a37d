// The shared solver and gradient flags; see solver_flags.hpp.
#include "cli/solver_flags.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include "cli/flags.hpp"
#include "cli/ode_flags.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad/gradient_method.hpp"
#include "neuralode/ode/method_registry.hpp"

namespace neuralode::cli {

namespace {

// A word checked by the library's own parse function: its InvalidArgument message ("unknown
// method 'magic'; accepted: ...") becomes the flag's, so the CLI and the library say the same.
template <class Parse>
CLI::Validator library_word(Parse parse, const std::string& description) {
  return CLI::Validator(
      [parse](std::string& value) -> std::string {
        try {
          parse(value);
        } catch (const InvalidArgument& e) {
          return e.what();
        }
        return {};
      },
      description);
}

constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();

}  // namespace

void add_solve_flags(CLI::App& cmd, ode::SolveOptions& o, const std::string& method_help,
                     SolveFlagSet which) {
  if (which.method)
    cmd.add_option("--method", o.method, method_help + ": " + ode::method_names())
        ->check(library_word([](const std::string& w) { ode::find_method(w); }, "a method name"))
        ->capture_default_str();
  if (which.tolerances) {
    cmd.add_option("--rtol", o.rtol,
                   "Relative tolerance per accepted step (adaptive methods); refused below the "
                   "unit roundoff of the scalar type when --atol is too")
        ->check(positive_real())
        ->capture_default_str();
    cmd.add_option("--atol", o.atol, "Absolute tolerance per accepted step (adaptive methods)")
        ->check(positive_real())
        ->capture_default_str();
  }
  if (which.step_size)
    cmd.add_option("--step-size", o.step_size,
                   "Fixed step size; 0 = error control for adaptive methods, output time to "
                   "output time otherwise. Set with an adaptive method, it turns error control off")
        ->check(non_negative_real("error control, or output time to output time"))
        ->capture_default_str();
  if (which.control)
    cmd.add_option("--first-step", o.first_step,
                   "Initial step of an adaptive solve (at most |t1 - t0|); 0 = automatic")
        ->check(non_negative_real("automatic"))
        ->capture_default_str();
  if (which.max_steps)
    cmd.add_option("--max-steps", o.max_num_steps,
                   "Cap on attempted steps of each solve (SolveOptions::max_num_steps); a "
                   "fixed-step solve that needs more is refused before it starts")
        ->check(integer_at_least(1))
        ->capture_default_str();
  if (!which.control) return;
  cmd.add_option_function<std::string>(
         "--controller", [&o](const std::string& w) { o.controller = ode::parse_controller(w); },
         "Step-size controller: i, pi (Gustafsson; --pi-beta), pid (diffrax's PIDController; "
         "--pcoeff, --icoeff, --dcoeff)")
      ->check(
          library_word([](const std::string& w) { ode::parse_controller(w); }, "one of i, pi, pid"))
      ->default_str(std::string(ode::to_string(o.controller)));
  cmd.add_option("--pi-beta", o.pi_beta, "beta of the PI controller (Hairer & Wanner's 0.04)")
      ->check(finite_real())
      ->capture_default_str();
  cmd.add_option("--pcoeff", o.pcoeff, "Proportional coefficient of the PID controller")
      ->check(finite_real())
      ->capture_default_str();
  cmd.add_option("--icoeff", o.icoeff, "Integral coefficient of the PID controller")
      ->check(positive_real())
      ->capture_default_str();
  cmd.add_option("--dcoeff", o.dcoeff, "Derivative coefficient of the PID controller")
      ->check(finite_real())
      ->capture_default_str();
  cmd.add_option("--safety", o.safety, "Multiplier on the optimal step (< 1 leaves a margin)")
      ->check(positive_real())
      ->capture_default_str();
  cmd.add_option("--ifactor", o.ifactor, "Largest growth factor of the step per step")
      ->check(positive_real())
      ->capture_default_str();
  cmd.add_option("--dfactor", o.dfactor, "Smallest shrink factor of the step per step (< 1)")
      ->check(positive_real())
      ->capture_default_str();
}

void add_grad_flags(CLI::App& cmd, grad::GradOptions& g, const std::string& grad_help) {
  CLI::Option* flag = cmd.add_option(
      "--grad", g.method,
      grad_help.empty() ? "Gradient method: " + grad::gradient_method_names() : grad_help);
  flag->check(library_word(
      [](const std::string& w) {
        grad::GradOptions probe;
        probe.method = w;
        probe.validate();
      },
      "a gradient method"));
  if (!g.method.empty()) flag->capture_default_str();
  cmd.add_option("--adjoint-method", g.adjoint_method,
                 "Method of the backward solve (adjoint, checkpoint); empty = the forward method")
      ->check(library_word([](const std::string& w) { ode::find_method(w); }, "a method name"));
  cmd.add_option("--adjoint-rtol", g.adjoint_rtol,
                 "rtol of the backward solve (adjoint, checkpoint); 0 = the forward rtol")
      ->check(non_negative_real("the forward rtol"))
      ->capture_default_str();
  cmd.add_option("--adjoint-atol", g.adjoint_atol,
                 "atol of the backward solve (adjoint, checkpoint); 0 = the forward atol")
      ->check(non_negative_real("the forward atol"))
      ->capture_default_str();
  cmd.add_option_function<std::string>(
         "--adjoint-norm",
         [&g](const std::string& w) { g.adjoint_norm = grad::parse_adjoint_norm(w); },
         "Backward error norm (adjoint): full, or seminorm (Kidger et al. 2021: the parameter "
         "gradient does not limit the step)")
      ->check(library_word([](const std::string& w) { grad::parse_adjoint_norm(w); },
                           "full or seminorm"))
      ->default_str(std::string(grad::to_string(g.adjoint_norm)));
  cmd.add_option("--checkpoint-every", g.checkpoint_every,
                 "Accepted steps between stored states (--grad checkpoint)")
      ->check(integer_at_least(1, kIntMax))
      ->capture_default_str();
  cmd.add_option("--binomial-snapshots", g.binomial_snapshots,
                 "States stored in the backward pass (--grad binomial); 0 = ceil(log2 N) + 1")
      ->check(integer_at_least(0, kIntMax))
      ->capture_default_str();
}

}  // namespace neuralode::cli
