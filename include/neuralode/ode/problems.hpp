// Built-in test problems: small ODEs with known solutions, references or invariants, used by the
// tests, the `neuralode solve` and `neuralode bench solvers` commands and the demo to check and
// compare the solvers on something whose answer is known.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "neuralode/ode/system.hpp"
#include "neuralode/types.hpp"

namespace neuralode::ode {

// One initial value problem y' = f(t, y), y(t0) = y0, for a single state of `dim` components.
// Every built-in problem is autonomous (f does not depend on t), so a solve started from y0 at any
// time has the same solution shifted in time; reference() relies on that.
struct Problem {
  // A quantity that is constant along every exact solution (an energy, a first integral). Solvers
  // do not preserve it exactly, so its drift along a solve is a cheap accuracy check.
  struct Invariant {
    std::string name;                              // "energy"
    std::function<double(const double* y)> value;  // y: dim values
  };

  std::string name;         // the word users type: "kepler"
  std::string description;  // one line: the equation and its parameters
  Index dim = 0;
  std::vector<double> y0;  // dim values at t0
  double t0 = 0;           // default interval [t0, t1]
  double t1 = 0;
  // f(t, y) for one sample: reads dim values from y, writes dim values to dy (no aliasing).
  // Allocation-free. Use ProblemSystem to apply it to every row of a batch.
  std::function<void(double t, const double* y, double* dy)> rhs;
  // The exact solution through (t0, y0), written into y (dim values); empty when none is known.
  std::function<void(double t, double* y)> exact;
  // y(t1) when no exact solution is known but the value at t1 is (a periodic orbit returns to y0
  // after one period); empty otherwise. Valid only for a solve over the default interval length.
  std::vector<double> y1_reference;
  // Where the exact solution or the reference value comes from (book and section, or derivation).
  std::string reference_note;
  std::vector<Invariant> invariants;

  // True when reference() can answer for the default interval [t0, t1].
  bool has_reference() const { return static_cast<bool>(exact) || !y1_reference.empty(); }

  // The known solution at t_end of a solve that starts from y0 at t_start, written into y (dim
  // values): the exact solution at t0 + (t_end - t_start), or y1_reference when t_end - t_start
  // is the default interval length (to 1e-14 relative). Returns false, writing nothing, when
  // neither applies.
  bool reference(double t_start, double t_end, std::span<double> y) const;

  // max_i |y_i - reference_i| at t_end for a solve from y0 at t_start; nullopt when no reference is
  // known there (see reference()). y holds dim values. Allocates a dim-sized scratch vector.
  std::optional<double> error(double t_start, double t_end, std::span<const double> y) const;

  // y0 repeated in every row of a batch x dim matrix: the initial state odeint takes.
  Matrix<double> initial_state(Index batch = 1) const;
};

// A Problem's right-hand side as a System<double>: applies Problem::rhs to every row of the batch.
// Holds a reference to the problem, which must outlive it. Throws InvalidArgument when a batch has
// a number of columns other than problem.dim.
class ProblemSystem final : public System<double> {
 public:
  explicit ProblemSystem(const Problem& problem) : problem_(problem) {}
  void rhs(double t, ConstMatrixView<double> y, MatrixView<double> dy) override;

 private:
  const Problem& problem_;
};

// Every built-in problem, in a stable order (linear, harmonic, vanderpol, lotka_volterra, kepler,
// arenstorf, brusselator). Built on first use; the references stay valid for the whole program.
const std::vector<Problem>& builtin_problems();

// The built-in problem named `name`. Throws InvalidArgument listing the accepted names otherwise.
const Problem& find_problem(std::string_view name);

// "linear, harmonic, ...": the accepted names, for help texts and error messages.
std::string problem_names();

}  // namespace neuralode::ode
