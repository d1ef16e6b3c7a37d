// The layer registry: one row per layer kind (see layer_registry.hpp). Each row's factory is one
// generic lambda of a scalar tag, so the float and double instances cannot drift apart.
// Conv2d, ConcatConv2d, GroupNorm and Flatten add their rows in the marked block below.
#include "neuralode/nn/layer_registry.hpp"

#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/concat_conv2d.hpp"
#include "neuralode/nn/concat_linear.hpp"
#include "neuralode/nn/concat_squash_linear.hpp"
#include "neuralode/nn/conv2d.hpp"
#include "neuralode/nn/cube.hpp"
#include "neuralode/nn/flatten.hpp"
#include "neuralode/nn/global_avg_pool.hpp"
#include "neuralode/nn/group_norm.hpp"
#include "neuralode/nn/hyper_linear.hpp"
#include "neuralode/nn/linear.hpp"
#include "neuralode/nn/piecewise_constant.hpp"
#include "neuralode/nn/residual.hpp"
#include "neuralode/nn/sequential.hpp"

namespace neuralode::nn {
namespace {

template <class S>
struct Tag {
  using Scalar = S;
};

// row("Linear", "summary", [](auto tag) { using S = typename decltype(tag)::Scalar; ... })
template <class Make>
LayerEntry row(std::string name, std::string summary, Make make) {
  return LayerEntry{std::move(name), std::move(summary),
                    [make] { return std::unique_ptr<Layer<double>>(make(Tag<double>{})); },
                    [make] { return std::unique_ptr<Layer<float>>(make(Tag<float>{})); }};
}

template <class Tag>
using S = typename Tag::Scalar;

template <ActivationFn Fn>
LayerEntry activation_row(const char* kind, const char* summary) {
  return row(kind, summary,
             [](auto tag) { return std::make_unique<Activation<S<decltype(tag)>>>(Fn, 4); });
}

std::vector<LayerEntry> make_registry() {
  std::vector<LayerEntry> rows{
      activation_row<ActivationFn::identity>("Identity", "y = x"),
      activation_row<ActivationFn::tanh>("Tanh", "y = tanh x"),
      activation_row<ActivationFn::relu>("ReLU", "y = max(x, 0)"),
      activation_row<ActivationFn::softplus>("Softplus", "y = log(1 + e^x)"),
      activation_row<ActivationFn::elu>("ELU", "y = x > 0 ? x : e^x - 1"),
      activation_row<ActivationFn::sigmoid>("Sigmoid", "y = 1 / (1 + e^-x)"),
      activation_row<ActivationFn::sin>("Sin", "y = sin x"),
      row("Cube", "y = x^3 (the spiral demo's f(y^3))",
          [](auto tag) { return std::make_unique<Cube<S<decltype(tag)>>>(4); }),
      row("Linear", "y = x W^T + b (nn.Linear)",
          [](auto tag) { return std::make_unique<Linear<S<decltype(tag)>>>(3, 4); }),
      row("ConcatLinear", "y = [t, x] W^T + b: time as an input feature",
          [](auto tag) { return std::make_unique<ConcatLinear<S<decltype(tag)>>>(3, 4); }),
      row("ConcatSquashLinear", "y = (x W^T + b) sigmoid(t w_g + b_g) + t w_hb (FFJORD)",
          [](auto tag) { return std::make_unique<ConcatSquashLinear<S<decltype(tag)>>>(3, 4); }),
      row("HyperLinear", "y = x W(t)^T + b(t), [W, b] from a hypernetwork of t",
          [](auto tag) { return std::make_unique<HyperLinear<S<decltype(tag)>>>(3, 2, 4); }),
      row("PiecewiseConstant", "block k's weights on [t_k, t_{k+1}) (a ResNet under Euler)",
          [](auto tag) {
            using Sc = S<decltype(tag)>;
            // Grid points at 0.25 steps: gradcheck's t lies in [0.1, 0.9), so it visits
            // different blocks for different seeds and stays clear of the grid for h = 1e-6
            // unless a seed lands within 1e-6 of 0.25, 0.5 or 0.75.
            return std::make_unique<PiecewiseConstant<Sc>>(
                std::vector<Sc>{0, Sc(0.25), Sc(0.5), Sc(0.75), 1},
                [] { return std::make_unique<ConcatLinear<Sc>>(3, 3); });
          }),
      row("Sequential", "layers in order (nn.Sequential)",
          [](auto tag) {
            using Sc = S<decltype(tag)>;
            return std::make_unique<Sequential<Sc>>(
                std::make_unique<Linear<Sc>>(3, 5),
                std::make_unique<Activation<Sc>>(ActivationFn::tanh, 5),
                std::make_unique<Linear<Sc>>(5, 3));
          }),
      // ---- convolutional layers (Conv2d, ConcatConv2d, GroupNorm, Flatten) go here ----------
      row("Conv2d", "2-D convolution over NCHW rows (nn.Conv2d)",
          [](auto tag) {
            return std::make_unique<Conv2d<S<decltype(tag)>>>(Conv2dOptions{.in_channels = 2,
                                                                            .out_channels = 3,
                                                                            .kernel_size = 3,
                                                                            .padding = 1,
                                                                            .height = 4,
                                                                            .width = 4});
          }),
      row("ConcatConv2d", "Conv2d over [t channel, x] (torchdiffeq's ConcatConv2d)",
          [](auto tag) {
            return std::make_unique<ConcatConv2d<S<decltype(tag)>>>(Conv2dOptions{.in_channels = 2,
                                                                                  .out_channels = 2,
                                                                                  .kernel_size = 3,
                                                                                  .stride = 2,
                                                                                  .padding = 1,
                                                                                  .height = 5,
                                                                                  .width = 5});
          }),
      row("GroupNorm", "per-group mean/variance normalisation, affine (nn.GroupNorm)",
          [](auto tag) {
            return std::make_unique<GroupNorm<S<decltype(tag)>>>(
                GroupNormOptions{.num_groups = 2, .num_channels = 4, .height = 2, .width = 2});
          }),
      row("Flatten", "identity on NCHW rows (nn.Flatten)",
          [](auto tag) { return std::make_unique<Flatten<S<decltype(tag)>>>(12); }),
      row("GlobalAvgPool", "per-channel mean over H x W (AdaptiveAvgPool2d(1) + Flatten)",
          [](auto tag) { return std::make_unique<GlobalAvgPool<S<decltype(tag)>>>(3, 2, 2); }),
      row("Residual", "y = x + h f(t, x): a ResNet block, one Euler step of f",
          [](auto tag) {
            using Sc = S<decltype(tag)>;
            return std::make_unique<Residual<Sc>>(
                std::make_unique<Sequential<Sc>>(
                    std::make_unique<ConcatLinear<Sc>>(3, 4),
                    std::make_unique<Activation<Sc>>(ActivationFn::tanh, 4),
                    std::make_unique<Linear<Sc>>(4, 3)),
                0.25);
          }),
  };
  return rows;
}

}  // namespace

std::span<const LayerEntry> layer_registry() {
  static const std::vector<LayerEntry> registry = make_registry();
  return registry;
}

const LayerEntry& find_layer(std::string_view name) {
  for (const auto& e : layer_registry()) {
    if (e.name == name) return e;
  }
  throw InvalidArgument("find_layer: no layer named \"" + std::string(name) +
                        "\"; registered: " + layer_names());
}

std::string layer_names() {
  std::string s;
  for (const auto& e : layer_registry()) {
    s += s.empty() ? "" : ", ";
    s += e.name;
  }
  return s;
}

}  // namespace neuralode::nn
