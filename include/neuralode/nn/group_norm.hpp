// GroupNorm: PyTorch's nn.GroupNorm (Wu & He 2018, "Group Normalization") on images flattened per
// sample (NCHW rows): each sample's channels are split into num_groups groups, each group is
// normalised to zero mean and unit (biased) variance, then scaled and shifted per channel.
#pragma once

#include <string>
#include <vector>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

struct GroupNormOptions {
  // ---- as nn.GroupNorm
  // Groups per sample; must divide num_channels. 1 = LayerNorm over C*H*W; num_channels =
  // InstanceNorm. ODE-Net uses min(32, channels).
  Index num_groups = 0;
  // Channels of the input image (required).
  Index num_channels = 0;
  // Added to the variance before the square root: keeps constant groups finite. PyTorch's default;
  // raise it (1e-3) in float if groups are nearly constant and gradients blow up.
  double eps = 1e-5;
  // Learned per-channel scale "weight" {C} (init 1) and shift "bias" {C} (init 0). PyTorch's
  // default; off leaves a parameter-free normalisation.
  bool affine = true;
  // ---- input image (required): spatial size of every sample; normalisation runs over it.
  Index height = 0;
  Index width = 0;

  // Throws InvalidArgument (prefixed with `where`) naming the field: counts < 1, eps <= 0 or not
  // finite, num_channels not divisible by num_groups.
  void validate(const char* where) const;
};

// For sample n and group g (channels c in g, pixels p; m = C/G * H*W entries):
//   mu = mean(x), var = mean((x - mu)^2) (biased, as PyTorch), r = 1/sqrt(var + eps),
//   y[c, p] = weight[c] * (x[c, p] - mu) * r + bias[c].
// All four products are exact (no finite differences); the reverse of the tangent pass uses the
// second derivative of the normalisation (derived in src/nn/group_norm.cpp). Time does not enter.
// Context: the normalised input and 1/sigma per (sample, group); the tangent context adds the
// tangent of the normalised input and s. Scratch: the same for an inference forward.
template <class Scalar>
class GroupNorm : public TangentLayerBase<Scalar> {
 public:
  explicit GroupNorm(const GroupNormOptions& options);  // validates (InvalidArgument)

  const GroupNormOptions& options() const { return options_; }
  std::string kind() const override { return "GroupNorm"; }
  Index in_features() const override { return features_; }
  Index out_features() const override { return features_; }
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override;

  // Shapes: batch x in_features() everywhere; InvalidArgument otherwise.
  // xhat (batch x features), then r per (sample, group).
  Index context_size(Index batch) const override;
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  // xhat, xhat_dot (batch x features each), then r and s per (sample, group).
  Index tangent_context_size(Index batch) const override;
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot, Scalar* ctx) override;
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  void check(const char* what, Index rows, Index cols, Index want_rows) const;
  // Normalises x into xhat and r (one entry per sample and group).
  void normalize(ConstMatrixView<Scalar> x, Scalar* xhat, Scalar* r) const;
  Scalar gamma(Index c) const { return w_ ? w_[c] : Scalar(1); }

  GroupNormOptions options_;
  Index features_, pixels_, group_size_;  // C*H*W, H*W, C/G * H*W
  std::string name_;
  const Scalar* w_ = nullptr;  // weight (gamma) or null (affine off)
  const Scalar* b_ = nullptr;  // bias (beta) or null
  // Inference forward: xhat (rows x features), r (rows x groups); grow-only.
  std::vector<Scalar> xhat_, r_;
};

extern template class GroupNorm<float>;
extern template class GroupNorm<double>;

}  // namespace neuralode::nn
