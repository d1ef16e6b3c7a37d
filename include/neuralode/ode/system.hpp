// System: the right-hand side dy/dt = f(t, y) of an ODE over a batch of states. The solver knows
// nothing else about what it integrates; neural vector fields (nn::VectorField) and the adjoint's
// augmented system are Systems too.
#pragma once

#include <span>
#include <utility>

#include "neuralode/types.hpp"

namespace neuralode::ode {

// Concept: given t and a batch y (batch x dim, row-major), write f(t, y) into dy (same shape).
// y and dy never alias. dy's previous contents are garbage. Called from the step loop, so an
// implementation should not allocate after its first call for a given shape.
template <class Scalar>
class System {
 public:
  virtual ~System() = default;
  virtual void rhs(Scalar t, ConstMatrixView<Scalar> y, MatrixView<Scalar> dy) = 0;

  // ---- Per-row time ----
  // dy_r = f(t[r], y_r) for each row r at its own time (t.size() == y.rows()): samples of a batch
  // at different times, as per-sample stepping and irregularly sampled series need. The default
  // evaluates each run of consecutive rows sharing a time with rhs() on that block of rows, so it
  // is correct for any System and costs one rhs() call when every row shares t; a system that
  // handles per-row times in one pass (a neural field) overrides it.
  virtual void rhs_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> y,
                           MatrixView<Scalar> dy) {
    const Index rows = y.rows(), cols = y.cols();
    Index r0 = 0;
    while (r0 < rows) {
      Index r1 = r0 + 1;
      while (r1 < rows && t[static_cast<std::size_t>(r1)] == t[static_cast<std::size_t>(r0)]) ++r1;
      rhs(t[static_cast<std::size_t>(r0)],
          ConstMatrixView<Scalar>(y.data() + r0 * cols, r1 - r0, cols),
          MatrixView<Scalar>(dy.data() + r0 * cols, r1 - r0, cols));
      r0 = r1;
    }
  }

  // ---- Optional quadrature ----
  // A system may carry Q = quadrature_size() extra components q with dq/dt = g(t, y) that depend
  // on y but never feed back into dy/dt (CVODES calls these quadrature variables, Serban &
  // Hindmarsh 2005, section 2.3). odeint then integrates q with the same steps and stages as y
  // but keeps no stage rows or dense output for it: a few Q-sized buffers in all, where making q
  // part of y would cost one per stage and more. The adjoint's parameter gradient is such an
  // integral. q is one flat vector (not batched); the solver passes it in and out through
  // odeint's q argument and returns it at the last output time only.
  virtual Index quadrature_size() const { return 0; }
  // Writes dy as rhs() does and, when quadrature_size() > 0, dq/dt at (t, y) into dq (Q values;
  // previous contents are garbage). The solver calls this for every stage it evaluates while
  // integrating q, and plain rhs() wherever dq is not needed, so rhs() must stay correct on its
  // own. Default: rhs(), for systems without a quadrature.
  virtual void rhs_with_quadrature(Scalar t, ConstMatrixView<Scalar> y, MatrixView<Scalar> dy,
                                   std::span<Scalar> /*dq*/) {
    rhs(t, y, dy);
  }

  // ---- Optional recorded evaluations ----
  // A system may keep, per evaluation, what a later reverse pass needs (a neural field's
  // activations), in storage the solver's observer supplies (StepObserver::stage_record) for
  // the stages of a step. record_size(batch): scalars per evaluation, or -1 (the default) if
  // the system keeps nothing. rhs_recorded writes dy as rhs() does and the record.
  virtual Index record_size(Index /*batch*/) const { return -1; }
  virtual void rhs_recorded(Scalar t, ConstMatrixView<Scalar> y, MatrixView<Scalar> dy,
                            Scalar* /*record*/) {
    rhs(t, y, dy);
  }
};

// Adapts any callable f(t, y, dy) with the signature above to a System, so that
// odeint([](double t, auto y, auto dy) { dy = -y; }, ...) works. Holds the callable by value.
template <class Scalar, class F>
class FunctionSystem final : public System<Scalar> {
 public:
  explicit FunctionSystem(F f) : f_(std::move(f)) {}
  void rhs(Scalar t, ConstMatrixView<Scalar> y, MatrixView<Scalar> dy) override { f_(t, y, dy); }

 private:
  F f_;
};

}  // namespace neuralode::ode
