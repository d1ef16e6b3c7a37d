// The gradient methods: one row each. A new method is a class in its own file plus a row here.
#include "grad/methods.hpp"

#include <array>
#include <string_view>
#include <type_traits>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::grad {

namespace {

template <class Scalar>
using Make = std::unique_ptr<GradientMethod<Scalar>> (*)(const GradOptions&);

// One row per method: what it is, and its factory for each scalar type.
struct Row {
  GradientMethodInfo info;
  Make<float> make_float;
  Make<double> make_double;
};

template <std::unique_ptr<GradientMethod<float>> (*F)(const GradOptions&),
          std::unique_ptr<GradientMethod<double>> (*D)(const GradOptions&)>
constexpr Row row(std::string_view name, bool discrete, std::string_view summary) {
  return {{name, discrete, summary}, F, D};
}

constexpr std::array kRows = {
    row<detail::make_direct<float>, detail::make_direct<double>>(
        "direct", true, "backprop through the solver's steps; O(N) memory"),
    row<detail::make_adjoint<float>, detail::make_adjoint<double>>(
        "adjoint", false, "Chen et al. 2018 continuous adjoint, x(t) solved backwards; O(1)"),
    row<detail::make_checkpoint<float>, detail::make_checkpoint<double>>(
        "checkpoint", false, "interpolating adjoint, CVODES-style; O(N/K) memory"),
    row<detail::make_binomial<float>, detail::make_binomial<double>>(
        "binomial", true, "direct with logarithmic checkpointing; O(log N) memory"),
};

// The info column alone, for all_gradient_methods().
constexpr auto kInfo = [] {
  std::array<GradientMethodInfo, kRows.size()> info{};
  for (std::size_t i = 0; i < kRows.size(); ++i) info[i] = kRows[i].info;
  return info;
}();

}  // namespace

std::span<const GradientMethodInfo> all_gradient_methods() {
  return kInfo;
}

bool detail::has_gradient_method(std::string_view name) {
  for (const auto& row : kInfo)
    if (row.name == name) return true;
  return false;
}

std::string gradient_method_names() {
  std::string names;
  for (const auto& row : kInfo) names += (names.empty() ? "" : ", ") + std::string(row.name);
  return names;
}

template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_gradient_method(const GradOptions& options) {
  for (const Row& r : kRows)
    if (r.info.name == options.method) {
      if constexpr (std::is_same_v<Scalar, float>)
        return r.make_float(options);
      else
        return r.make_double(options);
    }
  throw InvalidArgument(neuralode::detail::cat("unknown gradient method '", options.method,
                                               "'; accepted: ", gradient_method_names()));
}

template std::unique_ptr<GradientMethod<float>> make_gradient_method<float>(const GradOptions&);
template std::unique_ptr<GradientMethod<double>> make_gradient_method<double>(const GradOptions&);

}  // namespace neuralode::grad
