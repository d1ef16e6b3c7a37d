// System: the right-hand side dy/dt = f(t, y) of an ODE over a batch of states. The solver knows
// nothing else about what it integrates; neural vector fields (nn::VectorField) and the adjoint's
// augmented system are Systems too.
#pragma once

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
