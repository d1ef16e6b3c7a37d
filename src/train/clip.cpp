// clip_grad_norm: torch.nn.utils.clip_grad_norm_ on the flat gradient (clip_coef =
// max_norm / (total_norm + 1e-6), clamped to 1).
#include "neuralode/train/clip.hpp"

#include <algorithm>
#include <cmath>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::train {

using neuralode::detail::cat;
using neuralode::detail::num;

template <class Scalar>
double clip_grad_norm(std::span<Scalar> grads, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
  if (!(max_norm >= 0) || !std::isfinite(max_norm))
    throw InvalidArgument(
        cat("clip_grad_norm: max_norm = ", num(max_norm), " must be finite and >= 0"));
  if (!(norm_type > 0))
    throw InvalidArgument(cat("clip_grad_norm: norm_type = ", num(norm_type),
                              " must be > 0 (2 for the Euclidean norm) or infinity (kInfNorm)"));
  double total = 0;
  if (std::isinf(norm_type)) {
    for (Scalar g : grads) total = std::max(total, std::abs(static_cast<double>(g)));
    // std::max drops NaN; keep it so the caller sees a NaN gradient.
    for (Scalar g : grads)
      if (std::isnan(g)) total = std::numeric_limits<double>::quiet_NaN();
  } else if (norm_type == 2) {
    for (Scalar g : grads) total += static_cast<double>(g) * static_cast<double>(g);
    total = std::sqrt(total);
  } else if (norm_type == 1) {
    for (Scalar g : grads) total += std::abs(static_cast<double>(g));
  } else {
    for (Scalar g : grads) total += std::pow(std::abs(static_cast<double>(g)), norm_type);
    total = std::pow(total, 1 / norm_type);
  }
  if (!std::isfinite(total) && error_if_nonfinite)
    throw InvalidArgument(cat("clip_grad_norm: the total ", num(norm_type),
                              "-norm of the gradient is ", num(total),
                              "; a NaN or Inf entry, usually from a diverging solve or too large a "
                              "learning rate"));
  const double clip_coef = max_norm / (total + 1e-6);
  if (clip_coef < 1 || std::isnan(clip_coef)) {
    const Scalar c = Scalar(clip_coef);
    for (Scalar& g : grads) g *= c;
  }
  return total;
}

template double clip_grad_norm<float>(std::span<float>, double, double, bool);
template double clip_grad_norm<double>(std::span<double>, double, double, bool);

}  // namespace neuralode::train
