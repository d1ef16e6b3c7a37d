// The rows of the image-model registry; see image_model_registry.hpp.
#include "neuralode/models/image_model_registry.hpp"

#include <array>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::models {

namespace {

// Chen et al. (2018), Table 1, in torchdiffeq's examples/odenet_mnist.py shapes.
const std::array<ImageModel, 3>& rows() {
  static const std::array<ImageModel, 3> table = {{
      {"odenet", "ODE-Net: one ODE block (dopri5, tol 1e-3), adjoint gradients", true, "adjoint"},
      {"rknet", "RK-Net: the same block, backpropagation through the solver's steps", true,
       "direct"},
      {"resnet", "ResNet: six residual blocks, backpropagation", false, "direct"},
  }};
  return table;
}

}  // namespace

std::span<const ImageModel> image_models() {
  return rows();
}

std::string image_model_names() {
  std::string names;
  for (const ImageModel& m : rows()) names += (names.empty() ? "" : ", ") + m.name;
  return names;
}

const ImageModel& find_image_model(std::string_view name) {
  for (const ImageModel& m : rows())
    if (m.name == name) return m;
  throw InvalidArgument(detail::cat("unknown model '", name, "'; accepted: ", image_model_names()));
}

std::string image_model_help() {
  std::string text;
  for (const ImageModel& m : rows())
    text += "  " + m.name + std::string(m.name.size() < 8 ? 8 - m.name.size() : 1, ' ') +
            m.description + "\n";
  return text;
}

}  // namespace neuralode::models
