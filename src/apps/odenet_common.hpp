// What `train odenet` and `bench odenet` share (private to apps): the classifier's options from
// the run's, the data directory with its messages, and the memory check of a training step.
#pragma once

#include <chrono>
#include <cmath>
#include <filesystem>
#include <span>
#include <string_view>

#include "common/text.hpp"
#include "neuralode/apps/odenet.hpp"
#include "neuralode/error.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/train/image_data.hpp"
#include "train/memory_budget.hpp"

namespace neuralode::apps::odenet_internal {

using neuralode::detail::cat;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline models::ImageClassifierOptions classifier_options(const OdeNetOptions& o,
                                                         const train::ImageSet& data) {
  return {.model = o.model,
          .image_height = data.height,
          .image_width = data.width,
          .num_classes = data.num_classes,
          .solve = o.solve,
          .grad = o.grad};
}

// The data directory, with a message for the default data set when it is not installed.
inline fs::path existing_data_dir(const OdeNetOptions& o, const char* where) {
  const fs::path dir = o.data_dir();
  std::error_code ec;
  if (o.data == "fashion-mnist" && !fs::exists(dir, ec))
    throw InvalidArgument(cat(where, ": --data fashion-mnist: Fashion-MNIST is not installed (no ",
                              dir.string(),
                              "); install Debian's dataset-fashion-mnist (scripts/install-deps "
                              "does), or give --data DIR, a directory with the four MNIST-style "
                              "IDX files"));
  if (!fs::is_directory(dir, ec))
    throw InvalidArgument(
        cat(where, ": --data ", o.data, ": ", dir,
            fs::exists(dir, ec) ? " is not a directory" : " does not exist",
            "; accepted: fashion-mnist, or a directory with the four "
            "MNIST-style IDX files (train|t10k)-(images-idx3|labels-idx1)-ubyte"
            "[.gz]",
            std::string_view(where) == "bench odenet" ? ", or random (random pixels)" : ""));
  return dir;
}

// A lower bound on the bytes one training step of `m` at `batch` images keeps: the batch itself
// and the outputs of the down-sampling convolutions, normalisations and activations, each held
// once for the forward pass and once as its cotangent in the backward pass (float). The ODE
// block's own storage, which depends on the steps the solver takes, comes on top. At batch 128 on
// 28x28 images this is 161 MiB; `bench odenet --data random` measured 354 (odenet), 382 (rknet)
// and 419 MiB (resnet) of peak RSS there, one thread.
inline double training_bytes_lower_bound(const models::ImageClassifierOptions& m, Index batch) {
  const double C = static_cast<double>(m.channels);
  const double h1 = static_cast<double>(m.image_height - 2),
               w1 = static_cast<double>(m.image_width - 2);
  const double h2 = std::floor((h1 + 2 - 4) / 2) + 1, w2 = std::floor((w1 + 2 - 4) / 2) + 1;
  const double h3 = std::floor((h2 + 2 - 4) / 2) + 1, w3 = std::floor((w2 + 2 - 4) / 2) + 1;
  const double per_image = static_cast<double>(m.image_height * m.image_width) +
                           2 * (3 * C * h1 * w1 + 3 * C * h2 * w2 + C * h3 * w3);
  return per_image * static_cast<double>(batch) * sizeof(float);
}

inline void require_batch_fits(const char* where, const models::ImageClassifierOptions& m,
                               Index batch) {
  neuralode::detail::require_memory(where,
                                    cat("a training step of ", m.model, " at --batch-size ", batch,
                                        " on ", m.image_height, "x", m.image_width, " images"),
                                    training_bytes_lower_bound(m, batch),
                                    "use a smaller --batch-size");
}

}  // namespace neuralode::apps::odenet_internal
