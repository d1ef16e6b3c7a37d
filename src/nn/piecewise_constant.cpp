// PiecewiseConstant: K inner blocks, each bound to its own slice; every pass delegates to the block
// that serves t (see the header for the rule at grid points).
#include "neuralode/nn/piecewise_constant.hpp"

#include <algorithm>
#include <cassert>
#include <sstream>
#include <string>

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
  for (auto& b : blocks_) tangents_.push_back(b->tangent());
  inner_tangent_ = tangents_[0];
}

template <class Scalar>
Index PiecewiseConstant<Scalar>::block_at(Scalar t) const {
  return block_at(t, direction_);
}

template <class Scalar>
Index PiecewiseConstant<Scalar>::block_at(Scalar t, int direction) const {
  const Index num = num_blocks();
  // Interior grid points t_1 .. t_{K-1} split the blocks. Forward time: the number of interior
  // points <= t (so t = t_k selects block k); backward time: the number < t (t = t_k selects k-1).
  auto first = grid_.begin() + 1, last = grid_.end() - 1;
  auto it = direction > 0 ? std::upper_bound(first, last, t) : std::lower_bound(first, last, t);
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
template <class Fn>
void PiecewiseConstant<Scalar>::for_each_block_run(Time<Scalar> t, Index batch, int direction,
                                                   Fn&& fn) const {
  if (!t.per_row()) {
    fn(block_at(t.value(), direction), Index(0), batch);
    return;
  }
  Index r0 = 0;
  while (r0 < batch) {
    const Index k = block_at(t.at(r0), direction);
    Index r1 = r0 + 1;
    while (r1 < batch && block_at(t.at(r1), direction) == k) ++r1;
    fn(k, r0, r1);
    r0 = r1;
  }
}

namespace {

// The context of a run of rows: the runs' contexts lie one after the other inside a context sized
// for the whole batch, which holds them when the inner size is linear in the batch.
inline void require_fits(Index used, Index have) {
  if (used > have) {
    throw InvalidArgument(
        "PiecewiseConstant: per-row times span several pieces, and the inner blocks' contexts "
        "for those runs of rows (" +
        std::to_string(used) +
        " scalars) exceed the context sized for "
        "the batch (" +
        std::to_string(have) +
        "); use an inner layer whose context is linear in the "
        "batch, or one time per call");
  }
}

}  // namespace

template <class Scalar>
Index PiecewiseConstant<Scalar>::context_size(Index batch) const {
  return blocks_[0]->context_size(batch) + 1;
}

template <class Scalar>
Index PiecewiseConstant<Scalar>::tangent_context_size(Index batch) const {
  return inner_tangent_->tangent_context_size(batch) + 1;
}

// Context: the runs' inner contexts, then the time direction (at the end, so the inner contexts
// keep the caller's alignment); backward selects the same blocks from t and that direction.
template <class Scalar>
void PiecewiseConstant<Scalar>::forward(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                        MatrixView<Scalar> y, Scalar* ctx) {
  const Index batch = x.rows(), in = in_features(), out = out_features();
  const Index have = blocks_[0]->context_size(batch);
  if (ctx) ctx[have] = static_cast<Scalar>(direction_);
  Index used = 0;
  for_each_block_run(t, batch, direction_, [&](Index k, Index r0, Index r1) {
    Scalar* c = nullptr;
    if (ctx) {
      c = ctx + used;
      used += blocks_[0]->context_size(r1 - r0);
      require_fits(used, have);
    }
    blocks_[static_cast<std::size_t>(k)]->forward(
        t.from_row(r0), ConstMatrixView<Scalar>(x.data() + r0 * in, r1 - r0, in),
        MatrixView<Scalar>(y.data() + r0 * out, r1 - r0, out), c);
  });
}

template <class Scalar>
void PiecewiseConstant<Scalar>::backward(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                         const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                                         MatrixView<Scalar> x_bar, Scalar* theta_bar,
                                         Scalar* t_bar) {
  const Index batch = x.rows(), in = in_features(), out = out_features();
  const Index have = blocks_[0]->context_size(batch);
  const int direction = ctx[have] > 0 ? 1 : -1;
  Index used = 0;
  for_each_block_run(t, batch, direction, [&](Index k, Index r0, Index r1) {
    const Scalar* c = ctx + used;
    used += blocks_[0]->context_size(r1 - r0);
    blocks_[static_cast<std::size_t>(k)]->backward(
        t.from_row(r0), ConstMatrixView<Scalar>(x.data() + r0 * in, r1 - r0, in), c,
        ConstMatrixView<Scalar>(y_bar.data() + r0 * out, r1 - r0, out),
        MatrixView<Scalar>(x_bar.data() ? x_bar.data() + r0 * in : nullptr, r1 - r0, in),
        theta_bar ? theta_bar + k * block_params_ : nullptr,
        t_bar && t.per_row() ? t_bar + r0 : t_bar);
  });
}

template <class Scalar>
void PiecewiseConstant<Scalar>::forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                                ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                                MatrixView<Scalar> y_dot, Scalar* ctx) {
  const Index batch = x.rows(), in = in_features(), out = out_features();
  const Index have = inner_tangent_->tangent_context_size(batch);
  ctx[have] = static_cast<Scalar>(direction_);
  Index used = 0;
  for_each_block_run(t, batch, direction_, [&](Index k, Index r0, Index r1) {
    Scalar* c = ctx + used;
    used += inner_tangent_->tangent_context_size(r1 - r0);
    require_fits(used, have);
    const Index m = r1 - r0;
    tangents_[static_cast<std::size_t>(k)]->forward_tangent(
        t.from_row(r0), ConstMatrixView<Scalar>(x.data() + r0 * in, m, in),
        ConstMatrixView<Scalar>(x_dot.data() + r0 * in, m, in),
        MatrixView<Scalar>(y.data() + r0 * out, m, out),
        MatrixView<Scalar>(y_dot.data() + r0 * out, m, out), c);
  });
}

template <class Scalar>
void PiecewiseConstant<Scalar>::backward_tangent(
    Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot, const Scalar* ctx,
    ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
    MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) {
  const Index batch = x.rows(), in = in_features(), out = out_features();
  const Index have = inner_tangent_->tangent_context_size(batch);
  const int direction = ctx[have] > 0 ? 1 : -1;
  Index used = 0;
  for_each_block_run(t, batch, direction, [&](Index k, Index r0, Index r1) {
    const Scalar* c = ctx + used;
    used += inner_tangent_->tangent_context_size(r1 - r0);
    const Index m = r1 - r0;
    tangents_[static_cast<std::size_t>(k)]->backward_tangent(
        t.from_row(r0), ConstMatrixView<Scalar>(x.data() + r0 * in, m, in),
        ConstMatrixView<Scalar>(x_dot.data() + r0 * in, m, in), c,
        ConstMatrixView<Scalar>(y_bar.data() + r0 * out, m, out),
        ConstMatrixView<Scalar>(y_dot_bar.data() + r0 * out, m, out),
        MatrixView<Scalar>(x_bar.data() + r0 * in, m, in),
        MatrixView<Scalar>(x_dot_bar.data() + r0 * in, m, in),
        theta_bar ? theta_bar + k * block_params_ : nullptr,
        t_bar && t.per_row() ? t_bar + r0 : t_bar);
  });
}

template class PiecewiseConstant<float>;
template class PiecewiseConstant<double>;

}  // namespace neuralode::nn
