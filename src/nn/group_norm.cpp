// GroupNorm forward, reverse, tangent and reverse-of-tangent passes; see group_norm.hpp.
//
// Per sample and group (m entries; gamma, beta per channel; all sums over the group):
//   xhat = (x - mu) r,  r = (var + eps)^(-1/2),  y = gamma xhat + beta.
// The Jacobian of xhat in x is symmetric (Wu & He 2018 give the same reverse pass):
//   J = dxhat/dx = r (I - 1 1^T / m - xhat xhat^T / m),
// using dr/dx_i = -r^2 xhat_i / m (d var/dx_i = 2 (x_i - mu) / m; the mean terms cancel).
//   reverse:  u = gamma y_bar,       x_bar = J u = r (u - mean(u) - xhat mean(u xhat))
//   tangent:  xhat_dot = J v = r (v - mean(v) - xhat s),  s = mean(xhat v),  y_dot = gamma xhat_dot
// Reverse of the tangent pass, u = gamma y_dot_bar: x_dot_bar = J u, and x_bar gains the gradient
// of L(x) = <u, J(x) v> = r <u, v - mean(v)> - r s S2 with S2 = <u, xhat>:
//   dL/dx_i = -r xhat_i L / m - r S2 xhat_dot_i / m - r^2 s (u_i - mean(u) - xhat_i S2 / m)
// (three terms from dr/dx, ds/dx = xhat_dot / m and dS2/dx = J u). gamma gains
// sum(y_bar xhat) + sum(y_dot_bar xhat_dot), beta sum(y_bar).
#include "neuralode/nn/group_norm.hpp"

#include <cassert>
#include <cmath>

#include "neuralode/error.hpp"
#include "nn/detail/fixed_order_sum.hpp"

namespace neuralode::nn {

void GroupNormOptions::validate(const char* where) const {
  auto fail = [&](const std::string& what) {
    throw InvalidArgument(std::string(where) + ": " + what);
  };
  auto positive = [&](const char* name, Index v) {
    if (v < 1) fail(std::string(name) + " = " + std::to_string(v) + " must be >= 1");
  };
  positive("num_groups", num_groups);
  positive("num_channels", num_channels);
  positive("height", height);
  positive("width", width);
  if (num_channels % num_groups != 0) {
    fail("num_channels = " + std::to_string(num_channels) + " is not divisible by num_groups = " +
         std::to_string(num_groups) + "; choose num_groups among the divisors of num_channels");
  }
  if (!(eps > 0) || !std::isfinite(eps)) {
    fail("eps = " + std::to_string(eps) + " must be finite and > 0");
  }
}

template <class Scalar>
GroupNorm<Scalar>::GroupNorm(const GroupNormOptions& options) : options_(options) {
  options_.validate("GroupNorm");
  pixels_ = options.height * options.width;
  features_ = options.num_channels * pixels_;
  group_size_ = features_ / options.num_groups;
  name_ = "GroupNorm(" + std::to_string(options.num_groups) + " groups, " +
          std::to_string(options.num_channels) + " channels, " + std::to_string(options.height) +
          "x" + std::to_string(options.width) + ")";
}

template <class Scalar>
std::vector<ParamView> GroupNorm<Scalar>::param_specs() const {
  if (!options_.affine) return {};
  const Index c = options_.num_channels;
  return {{"weight", {c}, 0}, {"bias", {c}, c}};
}

template <class Scalar>
void GroupNorm<Scalar>::bind(Scalar* params) {
  w_ = (params && options_.affine) ? params : nullptr;
  b_ = (params && options_.affine) ? params + options_.num_channels : nullptr;
}

template <class Scalar>
void GroupNorm<Scalar>::check(const char* what, Index rows, Index cols, Index want_rows) const {
  if (cols == features_ && (want_rows < 0 || rows == want_rows)) return;
  throw InvalidArgument(name_ + ": " + what + " is " + std::to_string(rows) + " x " +
                        std::to_string(cols) + ", expected " +
                        (want_rows < 0 ? std::string("batch") : std::to_string(want_rows)) + " x " +
                        std::to_string(features_) + " (C*H*W per row, NCHW)");
}

namespace {

// Grow-only buffer: reallocates only when a larger batch than ever before arrives.
template <class Scalar>
Scalar* reserve(std::vector<Scalar>& v, Index n) {
  if (static_cast<Index>(v.size()) < n) v.resize(static_cast<std::size_t>(n));
  return v.data();
}

}  // namespace

template <class Scalar>
void GroupNorm<Scalar>::normalize(ConstMatrixView<Scalar> x, Scalar* xhat, Scalar* r) const {
  const Index groups = options_.num_groups, m = group_size_;
  const Scalar eps = static_cast<Scalar>(options_.eps);
  for (Index n = 0; n < x.rows(); ++n) {
    for (Index g = 0; g < groups; ++g) {
      const Index off = n * features_ + g * m;
      Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>> xs(x.data() + off, m);
      Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> xh(xhat + off, m);
      // Two passes: the mean first, then the centred sum of squares (no cancellation).
      const Scalar mu = detail::fixed_order_sum(x.data() + off, m) / static_cast<Scalar>(m);
      xh = xs - mu;
      const Scalar var =
          detail::fixed_order_dot<Scalar>(xhat + off, xhat + off, m) / static_cast<Scalar>(m);
      const Scalar rg = Scalar(1) / std::sqrt(var + eps);
      xh *= rg;
      r[n * groups + g] = rg;
    }
  }
}

template <class Scalar>
Index GroupNorm<Scalar>::context_size(Index batch) const {
  return batch * (features_ + options_.num_groups);
}

template <class Scalar>
Index GroupNorm<Scalar>::tangent_context_size(Index batch) const {
  return 2 * batch * (features_ + options_.num_groups);
}

template <class Scalar>
void GroupNorm<Scalar>::forward(Time<Scalar>, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                                Scalar* ctx) {
  check("x", x.rows(), x.cols(), -1);
  check("y", y.rows(), y.cols(), x.rows());
  const Index rows = x.rows();
  Scalar* xhat = ctx ? ctx : reserve(xhat_, rows * features_);
  normalize(x, xhat, ctx ? ctx + rows * features_ : reserve(r_, rows * options_.num_groups));
  for (Index n = 0; n < rows; ++n) {
    for (Index c = 0; c < options_.num_channels; ++c) {
      const Index off = n * features_ + c * pixels_;
      const Scalar gm = gamma(c), bt = b_ ? b_[c] : Scalar(0);
      for (Index p = 0; p < pixels_; ++p) y.data()[off + p] = gm * xhat[off + p] + bt;
    }
  }
}

template <class Scalar>
void GroupNorm<Scalar>::backward(Time<Scalar>, ConstMatrixView<Scalar> x, const Scalar* ctx,
                                 ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                 Scalar* theta_bar, Scalar*) {
  assert(ctx && "GroupNorm::backward needs the context of a training forward");
  const Index rows_ = x.rows();
  check("y_bar", y_bar.rows(), y_bar.cols(), rows_);
  check("x_bar", x_bar.rows(), x_bar.cols(), rows_);
  const Index groups = options_.num_groups, cpg = options_.num_channels / groups;
  const Scalar inv_m = Scalar(1) / static_cast<Scalar>(group_size_);
  const Scalar* xhat = ctx;
  const Scalar* r_ = ctx + rows_ * features_;
  const bool grads = theta_bar && options_.affine;
  for (Index n = 0; n < rows_; ++n) {
    for (Index g = 0; g < groups; ++g) {
      // mean(u) and mean(u xhat), u = gamma y_bar.
      Scalar su = 0, sux = 0;
      for (Index c = g * cpg; c < (g + 1) * cpg; ++c) {
        const Index off = n * features_ + c * pixels_;
        const Scalar gm = gamma(c);
        // Lane-wise fixed-order sums: a running scalar sum here was a serial chain of adds
        // (~4 cycles per pixel), 5 % of an ODE-Net training step.
        const Scalar a = detail::fixed_order_sum(y_bar.data() + off, pixels_);
        const Scalar b = detail::fixed_order_dot<Scalar>(y_bar.data() + off, xhat + off, pixels_);
        su += gm * a;
        sux += gm * b;
        if (grads) {
          theta_bar[c] += b;
          theta_bar[options_.num_channels + c] += a;
        }
      }
      su *= inv_m;
      sux *= inv_m;
      const Scalar r = r_[n * groups + g];
      for (Index c = g * cpg; c < (g + 1) * cpg; ++c) {
        const Index off = n * features_ + c * pixels_;
        const Scalar gm = gamma(c);
        for (Index p = 0; p < pixels_; ++p) {
          x_bar.data()[off + p] = r * (gm * y_bar.data()[off + p] - su - xhat[off + p] * sux);
        }
      }
    }
  }
}

// Tangent context: xhat, xhat_dot, r, s.
template <class Scalar>
void GroupNorm<Scalar>::forward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                        ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                        MatrixView<Scalar> y_dot, Scalar* ctx) {
  check("x", x.rows(), x.cols(), -1);
  check("x_dot", x_dot.rows(), x_dot.cols(), x.rows());
  check("y", y.rows(), y.cols(), x.rows());
  check("y_dot", y_dot.rows(), y_dot.cols(), x.rows());
  const Index rows = x.rows(), groups = options_.num_groups, cpg = options_.num_channels / groups;
  const Index m = group_size_;
  const Scalar inv_m = Scalar(1) / static_cast<Scalar>(m);
  Scalar* xhat = ctx;
  Scalar* xhat_dot = xhat + rows * features_;
  Scalar* r = xhat_dot + rows * features_;
  Scalar* s = r + rows * groups;
  normalize(x, xhat, r);
  for (Index n = 0; n < rows; ++n) {
    for (Index g = 0; g < groups; ++g) {
      const Index off = n * features_ + g * m;
      Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>> v(x_dot.data() + off, m);
      Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>> xh(xhat + off, m);
      Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> xd(xhat_dot + off, m);
      const Scalar vbar = detail::fixed_order_sum(x_dot.data() + off, m) * inv_m;
      const Scalar sg = detail::fixed_order_dot<Scalar>(xhat + off, x_dot.data() + off, m) * inv_m;
      xd = r[n * groups + g] * (v - vbar - xh * sg);
      s[n * groups + g] = sg;
      for (Index c = g * cpg; c < (g + 1) * cpg; ++c) {
        const Index co = n * features_ + c * pixels_;
        const Scalar gm = gamma(c), bt = b_ ? b_[c] : Scalar(0);
        for (Index p = 0; p < pixels_; ++p) {
          y.data()[co + p] = gm * xhat[co + p] + bt;
          y_dot.data()[co + p] = gm * xhat_dot[co + p];
        }
      }
    }
  }
}

template <class Scalar>
void GroupNorm<Scalar>::backward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                         ConstMatrixView<Scalar>, const Scalar* ctx,
                                         ConstMatrixView<Scalar> y_bar,
                                         ConstMatrixView<Scalar> y_dot_bar,
                                         MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                         Scalar* theta_bar, Scalar*) {
  assert(ctx && "GroupNorm::backward_tangent needs the context of forward_tangent");
  const Index trows_ = x.rows();
  check("y_bar", y_bar.rows(), y_bar.cols(), trows_);
  check("y_dot_bar", y_dot_bar.rows(), y_dot_bar.cols(), trows_);
  check("x_bar", x_bar.rows(), x_bar.cols(), trows_);
  check("x_dot_bar", x_dot_bar.rows(), x_dot_bar.cols(), trows_);
  const Index groups = options_.num_groups, cpg = options_.num_channels / groups;
  const Scalar inv_m = Scalar(1) / static_cast<Scalar>(group_size_);
  const Scalar* xhat = ctx;
  const Scalar* xhat_dot = xhat + trows_ * features_;
  const Scalar* tr_ = xhat_dot + trows_ * features_;
  const Scalar* ts_ = tr_ + trows_ * options_.num_groups;
  const bool grads = theta_bar && options_.affine;
  for (Index n = 0; n < trows_; ++n) {
    for (Index g = 0; g < groups; ++g) {
      // First order (u1 = gamma y_bar): mean(u1), mean(u1 xhat). Tangent (u = gamma y_dot_bar):
      // mean(u), S2 = <u, xhat>, L = <u, xhat_dot>.
      Scalar su1 = 0, sux1 = 0, su = 0, s2 = 0, l = 0;
      for (Index c = g * cpg; c < (g + 1) * cpg; ++c) {
        const Index off = n * features_ + c * pixels_;
        const Scalar gm = gamma(c);
        Scalar a = 0, b = 0, ad = 0, bd = 0, cd = 0;
        for (Index p = 0; p < pixels_; ++p) {
          const Scalar yb = y_bar.data()[off + p], ydb = y_dot_bar.data()[off + p];
          a += yb;
          b += yb * xhat[off + p];
          ad += ydb;
          bd += ydb * xhat[off + p];
          cd += ydb * xhat_dot[off + p];
        }
        su1 += gm * a;
        sux1 += gm * b;
        su += gm * ad;
        s2 += gm * bd;
        l += gm * cd;
        if (grads) {
          theta_bar[c] += b + cd;
          theta_bar[options_.num_channels + c] += a;
        }
      }
      su1 *= inv_m;
      sux1 *= inv_m;
      su *= inv_m;
      const Scalar r = tr_[n * groups + g], s = ts_[n * groups + g];
      const Scalar k_xhat = -r * l * inv_m, k_xdot = -r * s2 * inv_m, k_u = -r * r * s;
      for (Index c = g * cpg; c < (g + 1) * cpg; ++c) {
        const Index off = n * features_ + c * pixels_;
        const Scalar gm = gamma(c);
        for (Index p = 0; p < pixels_; ++p) {
          const Scalar xh = xhat[off + p];
          const Scalar u1 = gm * y_bar.data()[off + p], u = gm * y_dot_bar.data()[off + p];
          const Scalar cu = u - su - xh * s2 * inv_m;  // J u = r cu
          x_dot_bar.data()[off + p] = r * cu;
          x_bar.data()[off + p] =
              r * (u1 - su1 - xh * sux1) + k_xhat * xh + k_xdot * xhat_dot[off + p] + k_u * cu;
        }
      }
    }
  }
}

template class GroupNorm<float>;
template class GroupNorm<double>;

}  // namespace neuralode::nn
