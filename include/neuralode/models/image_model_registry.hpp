// The image classifiers by name (issue 13: models are chosen from a registry, not by string
// if-chains): one row per model gives its name, its one-line description, its middle (an ODE block
// or residual blocks) and its default gradient method. `--model`'s help, the validation of the
// word and the construction (ImageClassifier) all read this table, so a new image model is one
// row in src/models/image_model_registry.cpp plus its middle in image_classifier.cpp.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace neuralode::models {

struct ImageModel {
  std::string name;         // the word users type: "odenet"
  std::string description;  // one line for --help
  // true: the middle is one OdeBlock (it has a solver and a gradient method); false: residual
  // blocks trained by backpropagation (solver options do not apply, only grad "direct").
  bool has_ode_block = true;
  // The gradient method when none is given: the paper's (adjoint for ODE-Net, direct for RK-Net,
  // which is backpropagation through the solver's steps; direct for ResNet).
  std::string default_grad;
};

// Every registered model, in the order the help lists them.
std::span<const ImageModel> image_models();
// The row named `name`; InvalidArgument "unknown model 'vgg'; accepted: odenet, rknet, resnet".
const ImageModel& find_image_model(std::string_view name);
// "odenet, rknet, resnet"
std::string image_model_names();
// One "  name  description" line per model, for a command's help footer.
std::string image_model_help();

}  // namespace neuralode::models
