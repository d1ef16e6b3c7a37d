// Internal: one factory per gradient method, listed by registry.cpp.
#pragma once

#include <memory>
#include <string_view>

#include "neuralode/grad/gradient_method.hpp"

namespace neuralode::grad::detail {

bool has_gradient_method(std::string_view name);

template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_direct(const GradOptions& options);
template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_adjoint(const GradOptions& options);
template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_checkpoint(const GradOptions& options);
template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_binomial(const GradOptions& options);

}  // namespace neuralode::grad::detail
