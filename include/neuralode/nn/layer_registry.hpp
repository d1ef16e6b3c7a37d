// The list of layers. Each layer kind is one row in src/nn/layer_registry.cpp: its name (equal to
// kind()), a one-line summary and a factory for a small representative instance. Tests (gradcheck,
// float-vs-double, no-allocation) and the docs table iterate over this list, so a new layer is
// tested by adding its row.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

struct LayerEntry {
  std::string name;     // == kind() of what the factories make: "Linear", "Tanh", ...
  std::string summary;  // one line for docs and help texts
  // Factories of the same small instance (a few features, a few parameters) in each scalar type;
  // the instance is unbound: lay out num_params() values and bind() them before use.
  std::function<std::unique_ptr<Layer<double>>()> make_double;
  std::function<std::unique_ptr<Layer<float>>()> make_float;

  template <class Scalar>
  std::unique_ptr<Layer<Scalar>> make() const {
    if constexpr (std::is_same_v<Scalar, float>) {
      return make_float();
    } else {
      return make_double();
    }
  }
};

// Every registered layer, in a stable order.
std::span<const LayerEntry> layer_registry();

// The entry registered under `name`. Throws InvalidArgument listing the accepted names.
const LayerEntry& find_layer(std::string_view name);

// "Identity, Tanh, ...": the registered names, for help texts and error messages.
std::string layer_names();

}  // namespace neuralode::nn
