// Cube: y = x^3 element-wise. The spiral demo of the reference (torchdiffeq's ode_demo) evaluates
// its network on y^3, so its field is Sequential(Cube, Linear(2, 50), Tanh, Linear(50, 2)).
#pragma once

#include "neuralode/nn/activation.hpp"

namespace neuralode::nn {

// An Activation with ActivationFn::cube (sigma' = 3x^2, sigma'' = 6x); kind() "Cube".
template <class Scalar>
class Cube final : public Activation<Scalar> {
 public:
  explicit Cube(Index features) : Activation<Scalar>(ActivationFn::cube, features) {}
};

}  // namespace neuralode::nn
