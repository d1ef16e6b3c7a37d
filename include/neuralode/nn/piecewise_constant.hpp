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
//    matching forward used (the forward's time direction is kept in the context), so
//    backpropagation through the solver's steps is exact.
//  - time_direction() = -1 (a solve running backward in time, e.g. a continuous adjoint from t_K
//    down to t_0): block k on (t_k, t_{k+1}], so at t_{k+1} the block of the interval about to be
//    crossed, [t_k, t_{k+1}], is used again.
//  - outside the grid the end blocks extend: t < t_0 uses block 0, t >= t_K block K-1.
// Comparisons are exact (no tolerance): a solver meant to switch blocks exactly at the grid
// should step onto the grid values themselves (tstops), not onto accumulated sums of steps.
// d theta / dt is zero almost everywhere, so dL/dt comes only from the inner layer (if time enters
// it, e.g. an inner ConcatLinear).
// Per-row times: rows may fall in different pieces; each run of consecutive rows in one piece goes
// through its block as a sub-batch (with its rows' times). Their contexts share this layer's
// context, which suffices when the inner context grows linearly with the batch (every layer here
// but HyperLinear); otherwise per-row times spanning several pieces throw InvalidArgument.
template <class Scalar>
class PiecewiseConstant : public Layer<Scalar>, public TangentLayer<Scalar> {
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

  TangentLayer<Scalar>* tangent() override { return inner_tangent_ ? this : nullptr; }
  // The inner blocks' context at this batch, then the time direction of the forward.
  Index context_size(Index batch) const override;
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  Index tangent_context_size(Index batch) const override;
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot, Scalar* ctx) override;
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  std::vector<Scalar> grid_;
  std::vector<std::unique_ptr<Layer<Scalar>>> blocks_;
  Index block_params_ = 0;
  int direction_ = 1;
  TangentLayer<Scalar>* inner_tangent_ = nullptr;  // blocks_[0]->tangent()
  std::vector<TangentLayer<Scalar>*> tangents_;
  Index block_at(Scalar t, int direction) const;
  // Calls fn(k, r0, r1) for each run of consecutive rows [r0, r1) that block k serves.
  template <class Fn>
  void for_each_block_run(Time<Scalar> t, Index batch, int direction, Fn&& fn) const;
};

extern template class PiecewiseConstant<float>;
extern template class PiecewiseConstant<double>;

}  // namespace neuralode::nn
