// Fields and layers shared by the nn tests: the spiral field, the FFJORD-style MLP with t
// concatenated, one field per way time enters, and a deep composition.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "neuralode/nn.hpp"

namespace neuralode::nn::testing {

// cube -> Linear(2, hidden) -> tanh -> Linear(hidden, 2): torchdiffeq's ode_demo field on y^3.
template <class S>
std::unique_ptr<Sequential<S>> spiral(Index hidden = 50) {
  return std::make_unique<Sequential<S>>(
      std::make_unique<Cube<S>>(2), std::make_unique<Linear<S>>(2, hidden),
      std::make_unique<Activation<S>>(ActivationFn::tanh, hidden),
      std::make_unique<Linear<S>>(hidden, 2));
}

// ConcatLinear(d, w) -> softplus -> ConcatLinear(w, w) -> softplus -> ConcatLinear(w, d).
template <class S>
std::unique_ptr<Sequential<S>> concat_mlp(Index d, Index w) {
  return std::make_unique<Sequential<S>>(std::make_unique<ConcatLinear<S>>(d, w),
                                         std::make_unique<Activation<S>>(ActivationFn::softplus, w),
                                         std::make_unique<ConcatLinear<S>>(w, w),
                                         std::make_unique<Activation<S>>(ActivationFn::softplus, w),
                                         std::make_unique<ConcatLinear<S>>(w, d));
}

// One small dim -> dim field per way time enters the field (the reference's three ways).
struct TimeParametrization {
  std::string name;
  std::function<std::unique_ptr<Layer<double>>()> make;
};

inline std::vector<TimeParametrization> time_parametrizations() {
  using S = double;
  return {
      {"Stationary",
       [] {
         return std::make_unique<Sequential<S>>(
             std::make_unique<Linear<S>>(3, 6),
             std::make_unique<Activation<S>>(ActivationFn::softplus, 6),
             std::make_unique<Linear<S>>(6, 3));
       }},
      {"ConcatLinear", [] { return concat_mlp<S>(3, 6); }},
      {"ConcatSquashLinear",
       [] {
         return std::make_unique<Sequential<S>>(
             std::make_unique<ConcatSquashLinear<S>>(3, 6),
             std::make_unique<Activation<S>>(ActivationFn::tanh, 6),
             std::make_unique<ConcatSquashLinear<S>>(6, 3));
       }},
      {"HyperLinear",
       [] {
         return std::make_unique<Sequential<S>>(
             std::make_unique<HyperLinear<S>>(3, 4, 5),
             std::make_unique<Activation<S>>(ActivationFn::tanh, 4),
             std::make_unique<HyperLinear<S>>(4, 3, 5));
       }},
      {"PiecewiseConstant",
       [] {
         return std::make_unique<PiecewiseConstant<S>>(std::vector<S>{0, 0.25, 0.5, 0.75, 1.0}, [] {
           return std::make_unique<Sequential<S>>(
               std::make_unique<Linear<S>>(3, 5),
               std::make_unique<Activation<S>>(ActivationFn::tanh, 5),
               std::make_unique<Linear<S>>(5, 3));
         });
       }},
  };
}

// Eight layers mixing every smooth activation and every affine kind: 3 -> ... -> 3.
template <class S>
std::unique_ptr<Sequential<S>> deep_composition() {
  auto seq = std::make_unique<Sequential<S>>();
  seq->add(std::make_unique<Cube<S>>(3));
  seq->add(std::make_unique<Linear<S>>(3, 6));
  seq->add(std::make_unique<Activation<S>>(ActivationFn::tanh, 6));
  seq->add(std::make_unique<ConcatLinear<S>>(6, 5));
  seq->add(std::make_unique<Activation<S>>(ActivationFn::softplus, 5));
  seq->add(std::make_unique<ConcatSquashLinear<S>>(5, 5));
  seq->add(std::make_unique<Activation<S>>(ActivationFn::sigmoid, 5));
  seq->add(std::make_unique<HyperLinear<S>>(5, 4, 3));
  seq->add(std::make_unique<Activation<S>>(ActivationFn::sin, 4));
  seq->add(std::make_unique<Linear<S>>(4, 4));
  seq->add(std::make_unique<Activation<S>>(ActivationFn::elu, 4));
  seq->add(std::make_unique<Linear<S>>(4, 3));
  return seq;
}

}  // namespace neuralode::nn::testing
