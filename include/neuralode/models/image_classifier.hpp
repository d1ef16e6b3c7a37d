// ImageClassifier: the three models of Chen et al.'s Table 1 (and torchdiffeq's odenet_mnist),
// which share everything but their middle:
//
//   down-sampling  Conv2d(1->64, 3x3) GN ReLU Conv2d(64->64, 4x4, s2, p1) GN ReLU
//                  Conv2d(64->64, 4x4, s2, p1)                      28x28 -> 26x26 -> 13x13 -> 6x6
//   middle         odenet: one OdeBlock on [0, 1], field GN ReLU ConcatConv2d(3x3) GN ReLU
//                          ConcatConv2d(3x3) GN, dopri5 at rtol = atol = tol, adjoint gradients
//                  rknet:  the same block, gradients by backpropagation through the solver
//                  resnet: six residual blocks x + (GN ReLU Conv2d(3x3) GN ReLU Conv2d(3x3))(x)
//   head           GN ReLU GlobalAvgPool Linear(64 -> 10)
//
// GN is GroupNorm(min(32, C), C). Parameter counts match torchdiffeq's script: 208,266 for odenet
// and rknet, 576,778 for resnet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "neuralode/models/image_model_registry.hpp"  // image_model_names()
#include "neuralode/models/ode_block.hpp"
#include "neuralode/nn/sequential.hpp"

namespace neuralode::models {

struct ImageClassifierOptions {
  // A name of the registry (image_model_registry.hpp): odenet | rknet | resnet.
  std::string model = "odenet";
  // ---- input and output
  Index image_channels = 1;
  Index image_height = 28;
  Index image_width = 28;
  Index num_classes = 10;
  // ---- width and depth
  Index channels = 64;    // feature channels after the first convolution
  int resnet_blocks = 6;  // residual blocks of resnet
  // ---- the ODE block (odenet, rknet)
  // The block's solver, on [0, 1]. Defaults: torchdiffeq's odenet_mnist, dopri5 at rtol = atol =
  // 1e-3 (its --tol) with torchdiffeq's controller, plain I (exponent 1/5 for dopri5): the
  // comparison in the paper's table is with its step counts, and our PI default (beta 0.04)
  // shrinks steps after easy ones and took 5-6 dopri5 steps where the I controller takes fewer on
  // this field. max_num_steps caps the block's steps per solve: trained ODE-Nets take 3-30 dopri5
  // steps; a field blown up by a diverging run can need millions, which looks like a hang: past
  // the cap the solve throws SolveError. A fixed-step method takes step_size (0: one step).
  ode::SolveOptions solve = default_solve();
  // Gradient method of the block; an empty method = the model's own (odenet: adjoint, rknet:
  // direct). resnet has no block and is trained by backpropagation: only an empty method or
  // "direct" is accepted.
  grad::GradOptions grad = {.method = ""};
  static ode::SolveOptions default_solve() {
    ode::SolveOptions s;
    s.rtol = s.atol = 1e-3;
    s.controller = ode::Controller::i;
    s.max_num_steps = 100000;
    return s;
  }
  // Throws InvalidArgument naming the field and the accepted values.
  void validate() const;
  // The gradient method the block uses: grad.method, or the model's default.
  std::string effective_grad() const;
};

template <class Scalar>
class ImageClassifier {
 public:
  explicit ImageClassifier(const ImageClassifierOptions& options);  // validates

  const ImageClassifierOptions& options() const { return options_; }
  Index input_features() const { return net_.in_features(); }
  Index num_classes() const { return options_.num_classes; }

  // The flat parameter vector (all layers, in order) and its named views.
  std::span<Scalar> params() { return params_; }
  std::span<const Scalar> params() const { return params_; }
  const std::vector<nn::ParamView>& param_views() const { return views_; }
  Index num_params() const { return static_cast<Index>(params_.size()); }

  // PyTorch's default initialisation (nn::init_default), reproducible for a seed.
  void init(std::uint64_t seed);

  // Training mode (default) keeps what backward() needs; evaluation mode solves without keeping
  // anything (the ODE block) and backward() throws.
  void set_training(bool training);

  // logits = model(x); x: batch x input_features() (pixels in [0, 1]), logits: batch x classes.
  void forward(ConstMatrixView<Scalar> x, MatrixView<Scalar> logits);
  // grad = d loss / d params for the cotangent dlogits of the last forward (overwrites grad,
  // num_params() values).
  void backward(ConstMatrixView<Scalar> dlogits, std::span<Scalar> grad);

  // Evaluations of a field in the last forward and backward: the ODE block's NFE, or for resnet
  // the number of residual blocks (each evaluates its field once per pass).
  std::int64_t last_nfe_forward() const;
  std::int64_t last_nfe_backward() const;
  // The ODE block (odenet, rknet), or nullptr (resnet).
  OdeBlock<Scalar>* ode_block() { return block_; }

  // One line per stage: "down-sampling: 132096 parameters", ...
  std::string describe() const;

 private:
  ImageClassifierOptions options_;
  nn::Sequential<Scalar> net_;
  OdeBlock<Scalar>* block_ = nullptr;  // owned by net_
  Index down_params_ = 0, middle_params_ = 0, head_params_ = 0;
  std::vector<Scalar> params_;
  std::vector<nn::ParamView> views_;
  // The network's context of the last forward and a view of its input, for backward (the caller
  // keeps x alive and unchanged until then, as for a layer).
  std::vector<Scalar> ctx_;
  const Scalar* x_ = nullptr;
  Index x_rows_ = 0;
};

extern template class ImageClassifier<float>;
extern template class ImageClassifier<double>;

}  // namespace neuralode::models
