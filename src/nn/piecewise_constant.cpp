// PiecewiseConstant: K inner blocks, each bound to its own slice; every pass delegates to the block
// that serves t (see the header for the rule at grid points).
#include "neuralode/nn/piecewise_constant.hpp"

#include <algorithm>
#include <cassert>
#include <sstream>

#include "neuralode/error.hpp"

namespace neuralode::nn {

template <class Scalar>
PiecewiseConstant<Scalar>::PiecewiseConstant(std::vector<Scalar> grid,
                                             const BlockFactory& make_block)
    : grid_(std::move(grid)) {
  if (grid_.size() < 2) {
    throw InvalidArgument("PiecewiseConstant: the grid has " + std::to_string(grid_.size()) +
                          " points; it needs at least 2 (t_0 < t_1 bound one block)");
  }
  for (std::size_t i = 1; i < grid_.size(); ++i) {
    if (!(grid_[i] > grid_[i - 1])) {
      std::ostringstream msg;
      msg << "PiecewiseConstant: the grid must be strictly increasing; grid[" << i
          << "] = " << grid_[i] << " is not above grid[" << i - 1 << "] = " << grid_[i - 1];
      throw InvalidArgument(msg.str());
    }
  }
  for (std::size_t k = 0; k + 1 < grid_.size(); ++k) {
    auto block = make_block();
    if (!block) throw InvalidArgument("PiecewiseConstant: the block factory returned null");
    if (!blocks_.empty() && (block->in_features() != blocks_[0]->in_features() ||
                             block->out_features() != blocks_[0]->out_features() ||
                             block->num_params() != blocks_[0]->num_params())) {
      throw InvalidArgument("PiecewiseConstant: the block factory made blocks of different shapes");
    }
    blocks_.push_back(std::move(block));
  }
  block_params_ = blocks_[0]->num_params();
}

template <class Scalar>
Index PiecewiseConstant<Scalar>::block_at(Scalar t) const {
  const Index num = num_blocks();
  // Interior grid points t_1 .. t_{K-1} split the blocks. Forward time: the number of interior
  // points <= t (so t = t_k selects block k); backward time: the number < t (t = t_k selects k-1).
  auto first = grid_.begin() + 1, last = grid_.end() - 1;
  auto it = direction_ > 0 ? std::upper_bound(first, last, t) : std::lower_bound(first, last, t);
  return std::min<Index>(static_cast<Index>(it - first), num - 1);
}

template <class Scalar>
void PiecewiseConstant<Scalar>::set_time_direction(int direction) {
  if (direction != 1 && direction != -1) {
    throw InvalidArgument("PiecewiseConstant::set_time_direction: direction = " +
                          std::to_string(direction) + "; accepted: +1 (forward), -1 (backward)");
  }
  direction_ = direction;
}

template <class Scalar>
std::vector<ParamView> PiecewiseConstant<Scalar>::param_specs() const {
  std::vector<ParamView> out;
  for (Index k = 0; k < num_blocks(); ++k) {
    for (auto p : blocks_[static_cast<std::size_t>(k)]->param_specs()) {
      p.name = std::to_string(k) + "." + p.name;
      p.offset += k * block_params_;
      out.push_back(std::move(p));
    }
  }
  return out;
}

template <class Scalar>
void PiecewiseConstant<Scalar>::bind(Scalar* params) {
  for (Index k = 0; k < num_blocks(); ++k) {
    blocks_[static_cast<std::size_t>(k)]->bind(params ? params + k * block_params_ : nullptr);
  }
}

template <class Scalar>
void PiecewiseConstant<Scalar>::forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) {
  k_ = block_at(t);
  blocks_[static_cast<std::size_t>(k_)]->forward(t, x, y);
}

template <class Scalar>
void PiecewiseConstant<Scalar>::forward_inference(Scalar t, ConstMatrixView<Scalar> x,
                                                  MatrixView<Scalar> y) {
  blocks_[static_cast<std::size_t>(block_at(t))]->forward_inference(t, x, y);
}

template <class Scalar>
void PiecewiseConstant<Scalar>::backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                         Scalar* theta_bar, Scalar* t_bar) {
  blocks_[static_cast<std::size_t>(k_)]->backward(
      y_bar, x_bar, theta_bar ? theta_bar + k_ * block_params_ : nullptr, t_bar);
}

template <class Scalar>
void PiecewiseConstant<Scalar>::forward_tangent(Scalar t, ConstMatrixView<Scalar> x,
                                                ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                                MatrixView<Scalar> y_dot) {
  tk_ = block_at(t);
  blocks_[static_cast<std::size_t>(tk_)]->forward_tangent(t, x, x_dot, y, y_dot);
}

template <class Scalar>
void PiecewiseConstant<Scalar>::backward_tangent(ConstMatrixView<Scalar> y_bar,
                                                 ConstMatrixView<Scalar> y_dot_bar,
                                                 MatrixView<Scalar> x_bar,
                                                 MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                                                 Scalar* t_bar) {
  blocks_[static_cast<std::size_t>(tk_)]->backward_tangent(
      y_bar, y_dot_bar, x_bar, x_dot_bar, theta_bar ? theta_bar + tk_ * block_params_ : nullptr,
      t_bar);
}

template class PiecewiseConstant<float>;
template class PiecewiseConstant<double>;

}  // namespace neuralode::nn
