// PiecewiseConstant: time-varying weights that are constant on the intervals of a time grid,
// theta(t) = theta_k for t in [t_k, t_{k+1}). With Euler steps on that grid, integrating such a
// field is exactly a ResNet whose block k has its own weights: x_{k+1} = x_k + h f_{theta_k}(x_k).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

// Wraps K = grid.size() - 1 copies of an inner layer made by `make_block` (all copies must have
// the same shape). Parameters: the K copies' parameters one after the other, named
// "<k>.<inner name>".
//
// Which block serves t:
//  - time_direction() = +1 (default, forward-time integration): block k on [t_k, t_{k+1}); a
//    solver stepping forward from a grid point t_k evaluates there the block of the interval it is
//    about to cross. The reverse passes (backward, backward_tangent) use the block that the
//    matching forward used, so backpropagation through the solver's steps is exact.
//  - time_direction() = -1 (a solve running backward in time, e.g. a continuous adjoint from t_K
//    down to t_0): block k on (t_k, t_{k+1}], so at t_{k+1} the block of the interval about to be
//    crossed, [t_k, t_{k+1}], is used again.
//  - outside the grid the end blocks extend: t < t_0 uses block 0, t >= t_K block K-1.
// Comparisons are exact (no tolerance): a solver meant to switch blocks exactly at the grid
// should step onto the grid values themselves (tstops), not onto accumulated sums of steps.
// d theta / dt is zero almost everywhere, so dL/dt comes only from the inner layer (if time enters
// it, e.g. an inner ConcatLinear).
template <class Scalar>
class PiecewiseConstant : public Layer<Scalar> {
 public:
  using BlockFactory = std::function<std::unique_ptr<Layer<Scalar>>()>;
  // grid: strictly increasing, at least 2 points (InvalidArgument otherwise, naming the index).
  PiecewiseConstant(std::vector<Scalar> grid, const BlockFactory& make_block);

  Index num_blocks() const { return static_cast<Index>(blocks_.size()); }
  const std::vector<Scalar>& grid() const { return grid_; }
  // The block used at time t under the current time direction.
  Index block_at(Scalar t) const;
  // +1 or -1 (InvalidArgument otherwise); see the class comment.
  void set_time_direction(int direction);
  int time_direction() const { return direction_; }

  std::string kind() const override { return "PiecewiseConstant"; }
  Index in_features() const override { return blocks_.front()->in_features(); }
  Index out_features() const override { return blocks_.front()->out_features(); }
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override;

  void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) override;
  void forward_inference(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) override;
  void backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  void forward_tangent(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot) override;
  void backward_tangent(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                        MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                        Scalar* t_bar) override;

 private:
  std::vector<Scalar> grid_;
  std::vector<std::unique_ptr<Layer<Scalar>>> blocks_;
  Index block_params_ = 0;
  int direction_ = 1;
  Index k_ = 0, tk_ = 0;  // blocks used by the last forward / tangent pass
};

extern template class PiecewiseConstant<float>;
extern template class PiecewiseConstant<double>;

}  // namespace neuralode::nn
