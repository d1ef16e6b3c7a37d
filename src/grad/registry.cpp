// The gradient methods: one row each. A new method is a class in its own file plus a row here.
#include "grad/methods.hpp"

#include <array>
#include <string_view>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::grad {

namespace {

template <class Scalar>
struct Row {
  std::string_view name;
  std::unique_ptr<GradientMethod<Scalar>> (*make)(const GradOptions&);
};

template <class Scalar>
constexpr std::array<Row<Scalar>, 4> kRows = {{
    {"direct", &detail::make_direct<Scalar>},    // backprop through the steps; O(N) memory
    {"adjoint", &detail::make_adjoint<Scalar>},  // Chen et al. 2018 continuous adjoint; O(1)
    {"checkpoint",
     &detail::make_checkpoint<Scalar>},            // interpolating adjoint, CVODES-style; O(N/K)
    {"binomial", &detail::make_binomial<Scalar>},  // direct with logarithmic checkpointing
}};

}  // namespace

bool detail::has_gradient_method(std::string_view name) {
  for (const auto& row : kRows<double>)
    if (row.name == name) return true;
  return false;
}

std::string gradient_method_names() {
  std::string names;
  for (const auto& row : kRows<double>)
    names += (names.empty() ? "" : ", ") + std::string(row.name);
  return names;
}

template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_gradient_method(const GradOptions& options) {
  for (const auto& row : kRows<Scalar>)
    if (row.name == options.method) return row.make(options);
  throw InvalidArgument(neuralode::detail::cat("unknown gradient method '", options.method,
                                               "'; accepted: ", gradient_method_names()));
}

template std::unique_ptr<GradientMethod<float>> make_gradient_method<float>(const GradOptions&);
template std::unique_ptr<GradientMethod<double>> make_gradient_method<double>(const GradOptions&);

}  // namespace neuralode::grad
