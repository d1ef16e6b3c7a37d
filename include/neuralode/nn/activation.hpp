// Element-wise functions sigma applied to every feature: tanh, relu, softplus, elu, sigmoid, sin,
// identity (and cube, which the spiral demo applies to its state). Each provides its value and its
// first and second derivatives: the tangent pass needs sigma', and its reverse pass sigma''.
#pragma once

#include <string>
#include <string_view>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

// The functions, spelled as users type them ("softplus").
//   identity  x                      sigma' = 1             sigma'' = 0
//   tanh      tanh x                 1 - tanh^2 x           -2 tanh x (1 - tanh^2 x)
//   relu      max(x, 0)              [x > 0]                0        (kink at 0: sigma'(0) = 0)
//   softplus  log(1 + e^x)           s(x) = 1/(1+e^-x)      s(x)(1 - s(x))
//             (PyTorch's beta = 1; its threshold=20 linearisation is not applied: it changes the
//             value by < 2e-9 and would put a kink at x = 20)
//   elu       x > 0 ? x : e^x - 1    x > 0 ? 1 : e^x        x > 0 ? 0 : e^x   (alpha = 1)
//   sigmoid   s(x)                   s(1 - s)               s(1 - s)(1 - 2s)
//   sin       sin x                  cos x                  -sin x
//   cube      x^3                    3x^2                   6x
enum class ActivationFn { identity, tanh, relu, softplus, elu, sigmoid, sin, cube };

std::string to_string(ActivationFn fn);
// Parses "tanh" etc.; throws InvalidArgument listing the accepted words.
ActivationFn parse_activation_fn(std::string_view word);

// y = sigma(x) element-wise on batch x features. No parameters; time does not enter.
// kind(): "Identity", "Tanh", "ReLU", "Softplus", "ELU", "Sigmoid", "Sin", "Cube".
// Context: sigma'(x) for tanh and sigmoid (batch x features), where it comes nearly free from y;
// nothing for the others, whose backward computes sigma'(x) from x. Tangent context: sigma' and
// sigma'' (2 x batch x features).
template <class Scalar>
class Activation : public TangentLayerBase<Scalar> {
 public:
  Activation(ActivationFn fn, Index features);

  ActivationFn fn() const { return fn_; }
  std::string kind() const override;
  Index in_features() const override { return features_; }
  Index out_features() const override { return features_; }

  Index context_size(Index batch) const override;
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  Index tangent_context_size(Index batch) const override { return 2 * batch * features_; }
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot, Scalar* ctx) override;
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  ActivationFn fn_;
  Index features_;
};
extern template class Activation<float>;
extern template class Activation<double>;

}  // namespace neuralode::nn
