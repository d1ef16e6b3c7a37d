// OdeNetOptions: the checks of `train odenet` and `bench odenet` before any work, the data
// directory and the learning-rate milestones; see odenet.hpp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "common/text.hpp"
#include "neuralode/apps/odenet.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad/grad_options.hpp"
#include "neuralode/models/image_model_registry.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "neuralode/train/image_data.hpp"
#include "train/options_config.hpp"

namespace neuralode::apps {

using neuralode::detail::cat;
using neuralode::detail::num;

namespace {

// The ODE block computes in float: a tolerance below float's machine epsilon (1.19e-7) cannot be
// met, and the adaptive solver would shrink its steps until they underflow.
constexpr double kMinTol = 1.2e-7;
constexpr int kMaxThreads = 1024;
constexpr Index kMaxBatch = Index{1} << 31;

}  // namespace

void OdeNetOptions::validate() const {
  auto refuse = [](const std::string& what) { throw InvalidArgument("odenet: " + what); };
  if (epochs < 1) refuse(cat("--epochs = ", epochs, "; accepted: an integer >= 1"));
  if (batch_size < 1 || batch_size > kMaxBatch)
    refuse(cat("--batch-size = ", batch_size, "; accepted: an integer in [1, ", kMaxBatch, "]"));
  if (!(lr > 0) || !std::isfinite(lr))
    refuse(cat("--lr = ", num(lr), "; accepted: a finite number > 0"));
  if (!std::isfinite(lr * static_cast<double>(batch_size) / 128.0))
    refuse(cat("--lr = ", num(lr), " scaled by --batch-size ", batch_size,
               " / 128 is not a finite number; accepted: a smaller --lr"));
  if (threads < 1 || threads > kMaxThreads)
    refuse(cat("--threads = ", threads, "; accepted: an integer in [1, ", kMaxThreads, "]"));
  // --tol sets both; a run given --rtol or --atol apart is named by that flag.
  const bool one_tol = solve.rtol == solve.atol;
  const auto tolerance = [&](const char* flag, double v) {
    if (!(v >= kMinTol) || !std::isfinite(v))
      refuse(cat(one_tol ? "--tol" : flag, " = ", num(v),
                 "; accepted: a finite number >= ", num(kMinTol),
                 " (the ODE block computes in float32, whose machine epsilon is 1.19e-07)"));
  };
  tolerance("--rtol", solve.rtol);
  tolerance("--atol", solve.atol);
  if (!(momentum >= 0 && momentum < 1))
    refuse(cat("momentum = ", num(momentum), "; accepted: [0, 1)"));
  if (stop_after < 0)
    refuse(cat("--stop-after = ", stop_after, "; accepted: an integer >= 0 (0 = never)"));
  if (train_size < 0)
    refuse(cat("--train-size = ", train_size, "; accepted: an integer >= 0 (0 = all)"));
  if (test_size < 0)
    refuse(cat("--test-size = ", test_size, "; accepted: an integer >= 0 (0 = all)"));
  if (data.empty())
    refuse(
        "--data is empty; accepted: fashion-mnist or a directory with the four MNIST-style "
        "IDX files");
  // The words, each named by its flag with the accepted ones listed.
  const models::ImageModel* entry = nullptr;
  try {
    entry = &models::find_image_model(model);
  } catch (const InvalidArgument&) {
    refuse(cat("--model '", model, "' is not known; accepted: ", models::image_model_names()));
  }
  try {
    ode::find_method(solve.method);
  } catch (const InvalidArgument& e) {
    refuse(cat("--method: ", e.what()));
  }
  if (!entry->has_ode_block) {
    // ResNet has no ODE block: a gradient method, solver or tolerance would be ignored.
    const OdeNetOptions defaults;
    if (!grad.method.empty() && grad.method != "direct")
      refuse(cat("--grad ", grad.method,
                 " does not apply to --model resnet, which has no ODE block and "
                 "is trained by backpropagation; accepted: direct, or leave --grad out"));
    if (solve.method != defaults.solve.method)
      refuse(cat("--method ", solve.method,
                 " does not apply to --model resnet, which has no ODE block "
                 "(its residual blocks are not solved); leave --method out"));
    if (solve.rtol != defaults.solve.rtol || solve.atol != defaults.solve.atol)
      refuse(cat("--tol ", num(solve.rtol),
                 " does not apply to --model resnet, which has no ODE block; "
                 "leave --tol out"));
    // Every other solver flag likewise, named by its flag (the config key with '-').
    nlohmann::json now, def;
    detail::put_solve_config(now, solve);
    detail::put_solve_config(def, defaults.solve);
    for (const auto& [key, value] : now.items())
      if (key != "max_num_steps" && value != def[key]) {
        std::string flag = key;
        std::replace(flag.begin(), flag.end(), '_', '-');
        refuse(cat("--", flag, " ", value.dump(),
                   " does not apply to --model resnet, which has no ODE block; leave it out"));
      }
  } else {
    grad::GradOptions g = grad;
    if (g.method.empty()) g.method = entry->default_grad;
    try {
      g.validate();
    } catch (const InvalidArgument& e) {
      refuse(cat("--grad: ", e.what()));
    }
    try {
      // In float, the type the block computes in.
      solve.validate(0, 0, std::numeric_limits<float>::epsilon());
    } catch (const InvalidArgument& e) {
      refuse(cat("solver options: ", e.what()));
    }
  }
}

std::filesystem::path OdeNetOptions::data_dir() const {
  return data == "fashion-mnist" ? std::filesystem::path(train::kFashionMnistDir)
                                 : std::filesystem::path(data);
}

std::vector<std::int64_t> OdeNetOptions::lr_milestones(std::int64_t batches_per_epoch) const {
  std::vector<std::int64_t> m;
  for (int e : {60, 100, 140})
    m.push_back(static_cast<std::int64_t>(std::llround(static_cast<double>(epochs) * e / 160.0 *
                                                       static_cast<double>(batches_per_epoch))));
  return m;
}

}  // namespace neuralode::apps
