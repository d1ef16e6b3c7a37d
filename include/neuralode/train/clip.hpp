// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: the whole flat gradient is
// one vector, and it is scaled down when its norm exceeds max_norm.
#pragma once

#include <limits>
#include <span>

namespace neuralode::train {

// The p-norm of the whole gradient: (sum |g_i|^p)^(1/p), or max |g_i| for p = infinity.
inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// Computes total = ||grads||_norm_type (accumulated in double) and, when
// max_norm / (total + 1e-6) < 1, multiplies grads by that factor in place, exactly PyTorch's rule:
// afterwards the norm is max_norm less a relative 1e-6/total, never more. Returns total, the norm
// before clipping (log it: a total far above max_norm every step means max_norm or lr is off).
// Allocates nothing.
// - norm_type: p > 0, or kInfNorm. 2 is the usual choice.
// - max_norm >= 0 and finite.
// - A NaN or Inf total scales the gradient to NaN as PyTorch does by default; with
//   error_if_nonfinite = true it throws InvalidArgument instead and leaves grads unchanged.
// Throws InvalidArgument naming the argument for values out of range.
template <class Scalar>
double clip_grad_norm(std::span<Scalar> grads, double max_norm, double norm_type = 2,
                      bool error_if_nonfinite = false);

extern template double clip_grad_norm<float>(std::span<float>, double, double, bool);
extern template double clip_grad_norm<double>(std::span<double>, double, double, bool);

}  // namespace neuralode::train
