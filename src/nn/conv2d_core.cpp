// Shared implementation of Conv2d and ConcatConv2d; see conv2d_core.hpp.
#include "conv2d_core.hpp"

#include <cassert>

#include "neuralode/error.hpp"

namespace neuralode::nn {

void Conv2dOptions::validate(const char* where) const {
  auto fail = [&](const std::string& what) {
    throw InvalidArgument(std::string(where) + ": " + what);
  };
  auto positive = [&](const char* name, Index v) {
    if (v < 1) fail(std::string(name) + " = " + std::to_string(v) + " must be >= 1");
  };
  positive("in_channels", in_channels);
  positive("out_channels", out_channels);
  positive("kernel_size", kernel_size);
  positive("stride", stride);
  positive("height", height);
  positive("width", width);
  if (padding < 0) fail("padding = " + std::to_string(padding) + " must be >= 0");
  if (kernel_size > height + 2 * padding || kernel_size > width + 2 * padding) {
    fail("kernel_size = " + std::to_string(kernel_size) + " does not fit the padded " +
         std::to_string(height) + "x" + std::to_string(width) + " image (padding " +
         std::to_string(padding) + "); need kernel_size <= min(height, width) + 2 * padding");
  }
}

std::string Conv2dOptions::describe() const {
  return std::to_string(in_channels) + "->" + std::to_string(out_channels) + ", " +
         std::to_string(kernel_size) + "x" + std::to_string(kernel_size) + ", stride " +
         std::to_string(stride) + ", padding " + std::to_string(padding) + ", " +
         std::to_string(height) + "x" + std::to_string(width) + " input";
}

namespace detail {

template <class Scalar>
ConvLayerCore<Scalar>::ConvLayerCore(const Conv2dOptions& options, bool time_channel,
                                     const char* kind)
    : options_(options), time_channel_(time_channel) {
  options_.validate(kind);
  g_ = ConvGeometry{options.in_channels, options.out_channels, options.kernel_size, options.stride,
                    options.padding,     options.height,       options.width};
  name_ = std::string(kind) + "(" + options.describe() + ")";
  kk_ = g_.kernel * g_.kernel;
  ldw_ = (g_.in_channels + (time_channel ? 1 : 0)) * kk_;
  kernel_ = make_conv_kernel<Scalar>(g_, ldw_);
  offset_ = Row::Zero(g_.out_features());
  colsum_ = Row::Zero(g_.out_features());
}

template <class Scalar>
std::vector<ParamView> ConvLayerCore<Scalar>::param_specs() const {
  std::vector<ParamView> specs{
      {"weight",
       {g_.out_channels, g_.in_channels + (time_channel_ ? 1 : 0), g_.kernel, g_.kernel},
       0}};
  if (options_.bias) specs.push_back({"bias", {g_.out_channels}, g_.out_channels * ldw_});
  return specs;
}

template <class Scalar>
void ConvLayerCore<Scalar>::bind(Scalar* params) {
  w_ = params;
  b_ = (params && options_.bias) ? params + g_.out_channels * ldw_ : nullptr;
}

template <class Scalar>
void ConvLayerCore<Scalar>::check(const char* what, Index rows, Index cols, Index want_rows,
                                  Index want_cols) const {
  if (cols == want_cols && (want_rows < 0 || rows == want_rows)) return;
  const std::string want = (want_rows < 0 ? std::string("batch") : std::to_string(want_rows)) +
                           " x " + std::to_string(want_cols);
  throw InvalidArgument(name_ + ": " + what + " is " + std::to_string(rows) + " x " +
                        std::to_string(cols) + ", expected " + want + " (C*H*W per row, NCHW)");
}

template <class Scalar>
bool ConvLayerCore<Scalar>::inside(Index oh, Index ow, Index kh, Index kw) const {
  const Index ih = oh * g_.stride - g_.padding + kh, iw = ow * g_.stride - g_.padding + kw;
  return ih >= 0 && ih < g_.height && iw >= 0 && iw < g_.width;
}

template <class Scalar>
void ConvLayerCore<Scalar>::time_map(Row& m) const {
  const Index pixels = g_.out_pixels(), wo = g_.out_width();
  m.resize(g_.out_features());
  for (Index o = 0; o < g_.out_channels; ++o) {
    const Scalar* wt = w_ + o * ldw_;
    for (Index p = 0; p < pixels; ++p) {
      Scalar s = 0;
      for (Index kh = 0; kh < g_.kernel; ++kh) {
        for (Index kw = 0; kw < g_.kernel; ++kw) {
          if (inside(p / wo, p % wo, kh, kw)) s += wt[kh * g_.kernel + kw];
        }
      }
      m[o * pixels + p] = s;
    }
  }
}

template <class Scalar>
void ConvLayerCore<Scalar>::add_offset(Time<Scalar> t, MatrixView<Scalar> y) {
  if (!b_ && !time_channel_) return;
  t = collapsed(t, y.rows());
  const Index pixels = g_.out_pixels(), wo = g_.out_width();
  if (t.per_row() && time_channel_) {
    // Row r's offset is b + t_r M, formed as the shared-time path forms it for t = t_r.
    time_map(tmap_);
    for (Index r = 0; r < y.rows(); ++r) {
      const Scalar tr = t.at(r);
      for (Index o = 0; o < g_.out_channels; ++o) {
        const Scalar b = b_ ? b_[o] : Scalar(0);
        for (Index p = 0; p < pixels; ++p) offset_[o * pixels + p] = b + tr * tmap_[o * pixels + p];
      }
      y.row(r) += offset_;
    }
    return;
  }
  const Scalar tv = t.per_row() ? Scalar(0) : t.value();  // per-row t without a time channel
  for (Index o = 0; o < g_.out_channels; ++o) {
    const Scalar b = b_ ? b_[o] : Scalar(0);
    Scalar* off = offset_.data() + o * pixels;
    if (!time_channel_) {
      std::fill(off, off + pixels, b);
      continue;
    }
    // M[o, p] = sum of the time filter over the taps of p that read inside the image.
    const Scalar* wt = w_ + o * ldw_;
    for (Index p = 0; p < pixels; ++p) {
      Scalar m = 0;
      for (Index kh = 0; kh < g_.kernel; ++kh) {
        for (Index kw = 0; kw < g_.kernel; ++kw) {
          if (inside(p / wo, p % wo, kh, kw)) m += wt[kh * g_.kernel + kw];
        }
      }
      off[p] = b + tv * m;
    }
  }
  y.rowwise() += offset_;
}

template <class Scalar>
void ConvLayerCore<Scalar>::offset_backward(Time<Scalar> t, ConstMatrixView<Scalar> y_bar,
                                            Scalar* theta_bar, Scalar* t_bar) {
  const bool want_theta = theta_bar && (options_.bias || time_channel_);
  const bool want_t = t_bar && time_channel_;
  if (!want_theta && !want_t) return;
  if (!t_bar) t = collapsed(t, y_bar.rows());
  const Index pixels = g_.out_pixels(), wo = g_.out_width();
  // The time filter's terms of one cotangent s (a row, or the column sums): y[p] gains
  // t * W[o, 0, kh, kw] for every inside tap, so d/dW = t * s[p] and d/dt = W * s[p].
  auto time_terms = [&](const Scalar* s_all, Scalar tv, Index o, Scalar& dt) {
    const Scalar* s = s_all + o * pixels;
    const Scalar* wt = w_ + o * ldw_;
    for (Index kh = 0; kh < g_.kernel; ++kh) {
      for (Index kw = 0; kw < g_.kernel; ++kw) {
        Scalar sum = 0;
        for (Index p = 0; p < pixels; ++p) {
          if (inside(p / wo, p % wo, kh, kw)) sum += s[p];
        }
        if (theta_bar) theta_bar[o * ldw_ + kh * g_.kernel + kw] += tv * sum;
        dt += wt[kh * g_.kernel + kw] * sum;
      }
    }
  };
  colsum_.noalias() = y_bar.colwise().sum();
  if (t.per_row() && time_channel_) {
    if (theta_bar && options_.bias) {
      for (Index o = 0; o < g_.out_channels; ++o) {
        Scalar sum = 0;
        for (Index p = 0; p < pixels; ++p) sum += colsum_[o * pixels + p];
        theta_bar[g_.out_channels * ldw_ + o] += sum;
      }
    }
    for (Index r = 0; r < y_bar.rows(); ++r) {
      Scalar dt = 0;
      for (Index o = 0; o < g_.out_channels; ++o) time_terms(y_bar.row(r).data(), t.at(r), o, dt);
      if (want_t) t_bar[r] += dt;
    }
    return;
  }
  const Scalar tv = t.per_row() ? Scalar(0) : t.value();
  Scalar dt = 0;
  for (Index o = 0; o < g_.out_channels; ++o) {
    const Scalar* s = colsum_.data() + o * pixels;
    if (theta_bar && options_.bias) {
      Scalar sum = 0;
      for (Index p = 0; p < pixels; ++p) sum += s[p];
      theta_bar[g_.out_channels * ldw_ + o] += sum;
    }
    if (!time_channel_) continue;
    time_terms(colsum_.data(), tv, o, dt);
  }
  if (want_t) *t_bar += dt;
}

template <class Scalar>
void ConvLayerCore<Scalar>::forward(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                    MatrixView<Scalar> y) {
  assert(w_ && "bind() parameters before forward");
  check("x", x.rows(), x.cols(), -1, in_features());
  check("y", y.rows(), y.cols(), x.rows(), out_features());
  kernel_->forward(x, image_weights(), y);
  add_offset(t, y);
}

template <class Scalar>
void ConvLayerCore<Scalar>::backward(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                     ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                     Scalar* theta_bar, Scalar* t_bar) {
  check("x", x.rows(), x.cols(), -1, in_features());
  check("y_bar", y_bar.rows(), y_bar.cols(), x.rows(), out_features());
  // A null x_bar: the input's cotangent is not needed (Layer::skips_input_adjoint).
  if (x_bar.data() != nullptr) check("x_bar", x_bar.rows(), x_bar.cols(), x.rows(), in_features());
  Scalar* w_bar = theta_bar ? theta_bar + (time_channel_ ? kk_ : 0) : nullptr;
  kernel_->backward(x, y_bar, image_weights(), x_bar, w_bar);
  offset_backward(t, y_bar, theta_bar, t_bar);
}

template <class Scalar>
void ConvLayerCore<Scalar>::forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                            ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                            MatrixView<Scalar> y_dot) {
  assert(w_ && "bind() parameters before forward_tangent");
  check("x", x.rows(), x.cols(), -1, in_features());
  check("x_dot", x_dot.rows(), x_dot.cols(), x.rows(), in_features());
  check("y", y.rows(), y.cols(), x.rows(), out_features());
  check("y_dot", y_dot.rows(), y_dot.cols(), x.rows(), out_features());
  kernel_->forward(x, image_weights(), y);
  add_offset(t, y);
  // The layer is affine in x: y_dot = conv(x_dot), no offset (the t channel is constant in x).
  kernel_->forward(x_dot, image_weights(), y_dot);
}

template <class Scalar>
void ConvLayerCore<Scalar>::backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                             ConstMatrixView<Scalar> x_dot,
                                             ConstMatrixView<Scalar> y_bar,
                                             ConstMatrixView<Scalar> y_dot_bar,
                                             MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                             Scalar* theta_bar, Scalar* t_bar) {
  const Index rows = x.rows();
  check("y_bar", y_bar.rows(), y_bar.cols(), rows, out_features());
  check("y_dot_bar", y_dot_bar.rows(), y_dot_bar.cols(), rows, out_features());
  check("x_bar", x_bar.rows(), x_bar.cols(), rows, in_features());
  check("x_dot_bar", x_dot_bar.rows(), x_dot_bar.cols(), rows, in_features());
  Scalar* w_bar = theta_bar ? theta_bar + (time_channel_ ? kk_ : 0) : nullptr;
  // <y_bar, y>: y is affine in x, so x_bar = conv^T(y_bar); <y_dot_bar, y_dot> = <y_dot_bar,
  // conv(x_dot)> does not depend on x (no second derivative) but gives x_dot_bar and a weight term.
  kernel_->backward(x, y_bar, image_weights(), x_bar, w_bar);
  kernel_->backward(x_dot, y_dot_bar, image_weights(), x_dot_bar, w_bar);
  offset_backward(t, y_bar, theta_bar, t_bar);
}

template class ConvLayerCore<float>;
template class ConvLayerCore<double>;

}  // namespace detail
}  // namespace neuralode::nn
