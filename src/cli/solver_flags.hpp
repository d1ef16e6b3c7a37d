// The solver and gradient flags of every command, declared once (STYLE.md section 14): each
// command that solves binds ode::SolveOptions with add_solve_flags and, when it differentiates a
// solve, grad::GradOptions with add_grad_flags, so that `solve`, `train spiral`, `train odenet`,
// `bench spiral`, `bench odenet` and `bench memory` offer the same options under the same names,
// with the same validators and the same messages:
//   --rtol: must be a finite number > 0, got 0
//   --controller: unknown controller 'p'; accepted: i, pi, pid
// A flag writes the field of the same name (--rtol -> SolveOptions::rtol, --max-steps ->
// max_num_steps); its default is the value the struct holds when the flag is declared, so a
// command's own defaults (spiral's max_num_steps = 10^4, ODE-Net's I controller) show in --help.
// Words are checked by the library's own parse functions (their messages list the accepted
// words); numbers by the flags.hpp validators for their form and sign; ranges that involve other
// fields are the options' validate()'s, called once by the library at its boundary.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "neuralode/grad/grad_options.hpp"
#include "neuralode/ode/solve_options.hpp"

namespace neuralode::cli {

// Which solver flags a command offers. Every command offers all of them except where one cannot
// apply: `bench memory` steps a fixed grid of --steps (no error control, no step-size flags);
// `bench solvers` has lists of methods and tolerances and its own --max-steps default, and
// measures adaptive steps (no --step-size).
struct SolveFlagSet {
  bool method = true;      // --method
  bool tolerances = true;  // --rtol, --atol
  bool step_size = true;   // --step-size
  bool control = true;     // --first-step, --controller, --pi-beta, --pcoeff, --icoeff, --dcoeff,
                           // --safety, --ifactor, --dfactor
  bool max_steps = true;   // --max-steps
};

// --method, --rtol, --atol, --step-size, --first-step, --max-steps, --controller, --pi-beta,
// --pcoeff, --icoeff, --dcoeff, --safety, --ifactor, --dfactor bound to the fields of `o`
// (which must outlive the parse). `method_help` prefixes the method flag's help ("Solver",
// "Solver of the ODE block"); the accepted names follow from the registry.
void add_solve_flags(CLI::App& cmd, ode::SolveOptions& o, const std::string& method_help = "Solver",
                     SolveFlagSet which = {});

// --grad, --adjoint-method, --adjoint-rtol, --adjoint-atol, --adjoint-norm, --checkpoint-every,
// --binomial-snapshots bound to the fields of `g`. `grad_help` replaces the --grad help's default
// description (the image models say what an empty --grad means).
void add_grad_flags(CLI::App& cmd, grad::GradOptions& g, const std::string& grad_help = {});

// The names declared by add_solve_flags and add_grad_flags, in order (tests check every command
// accepts each one).
inline constexpr const char* kSolveFlagNames[] = {
    "--method",    "--rtol",       "--atol",    "--step-size", "--first-step",
    "--max-steps", "--controller", "--pi-beta", "--pcoeff",    "--icoeff",
    "--dcoeff",    "--safety",     "--ifactor", "--dfactor"};
inline constexpr const char* kGradFlagNames[] = {
    "--grad",         "--adjoint-method",   "--adjoint-rtol",      "--adjoint-atol",
    "--adjoint-norm", "--checkpoint-every", "--binomial-snapshots"};

}  // namespace neuralode::cli
