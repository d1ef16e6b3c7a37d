// Sequential: chains forward passes through kept intermediate outputs and the reverse passes
// through two ping-pong buffers (layer i reads one and writes the other, so nothing aliases).
#include "neuralode/nn/sequential.hpp"

#include <cassert>
#include <string>

#include "neuralode/error.hpp"

namespace neuralode::nn {
namespace {

// A rows x cols view of buf, growing it if needed (never shrinking, so no allocation once it has
// held the widest layer at this batch size).
template <class Scalar>
MatrixView<Scalar> sized(std::vector<Scalar>& buf, Index rows, Index cols) {
  const auto n = static_cast<std::size_t>(rows * cols);
  if (buf.size() < n) buf.resize(n);
  return MatrixView<Scalar>(buf.data(), rows, cols);
}

template <class Scalar>
ConstMatrixView<Scalar> as_const(MatrixView<Scalar> m) {
  return ConstMatrixView<Scalar>(m.data(), m.rows(), m.cols());
}

}  // namespace

template <class Scalar>
Sequential<Scalar>& Sequential<Scalar>::add(std::unique_ptr<Layer<Scalar>> layer) {
  if (!layer) throw InvalidArgument("Sequential::add: layer is null");
  if (!layers_.empty() && layers_.back()->out_features() != layer->in_features()) {
    throw InvalidArgument("Sequential::add: layer " + std::to_string(layers_.size()) + " (" +
                          layer->kind() + ") takes " + std::to_string(layer->in_features()) +
                          " features but layer " + std::to_string(layers_.size() - 1) + " (" +
                          layers_.back()->kind() + ") gives " +
                          std::to_string(layers_.back()->out_features()));
  }
  offsets_.push_back(layers_.empty() ? 0 : offsets_.back() + layers_.back()->num_params());
  layers_.push_back(std::move(layer));
  acts_.resize(layers_.size() - 1);
  tacts_.resize(layers_.size() - 1);
  tdots_.resize(layers_.size() - 1);
  return *this;
}

template <class Scalar>
Index Sequential<Scalar>::in_features() const {
  return layers_.empty() ? 0 : layers_.front()->in_features();
}

template <class Scalar>
Index Sequential<Scalar>::out_features() const {
  return layers_.empty() ? 0 : layers_.back()->out_features();
}

template <class Scalar>
std::vector<ParamView> Sequential<Scalar>::param_specs() const {
  std::vector<ParamView> out;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    for (auto p : layers_[i]->param_specs()) {
      p.name = std::to_string(i) + "." + p.name;
      p.offset += offsets_[i];
      out.push_back(std::move(p));
    }
  }
  return out;
}

template <class Scalar>
void Sequential<Scalar>::bind(Scalar* params) {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->bind(params ? params + offsets_[i] : nullptr);
  }
}

// Each layer's output feeds the next through acts_; the forward pass proper or the inference one.
template <class Scalar>
template <bool kInference>
void Sequential<Scalar>::chain(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) {
  assert(!layers_.empty());
  const std::size_t n = layers_.size();
  auto run = [t](Layer<Scalar>& layer, ConstMatrixView<Scalar> in, MatrixView<Scalar> out) {
    if constexpr (kInference) {
      layer.forward_inference(t, in, out);
    } else {
      layer.forward(t, in, out);
    }
  };
  ConstMatrixView<Scalar> in = x;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    auto out = sized(acts_[i], x.rows(), layers_[i]->out_features());
    run(*layers_[i], in, out);
    new (&in) ConstMatrixView<Scalar>(as_const(out));
  }
  run(*layers_[n - 1], in, y);
}

template <class Scalar>
void Sequential<Scalar>::forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) {
  chain<false>(t, x, y);
}

template <class Scalar>
void Sequential<Scalar>::forward_inference(Scalar t, ConstMatrixView<Scalar> x,
                                           MatrixView<Scalar> y) {
  chain<true>(t, x, y);
}

template <class Scalar>
void Sequential<Scalar>::backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                  Scalar* theta_bar, Scalar* t_bar) {
  const std::size_t n = layers_.size();
  ConstMatrixView<Scalar> cur = y_bar;
  for (std::size_t i = n; i-- > 1;) {
    auto dst = sized(g_[i % 2], y_bar.rows(), layers_[i]->in_features());
    layers_[i]->backward(cur, dst, theta_bar ? theta_bar + offsets_[i] : nullptr, t_bar);
    new (&cur) ConstMatrixView<Scalar>(as_const(dst));
  }
  // Without an x_bar, a first layer that cannot skip its input's cotangent writes it into the
  // ping-pong buffer layer 1 did not use (g_[0]; layer 1 wrote g_[1]).
  const bool scratch = x_bar.data() == nullptr && !layers_[0]->skips_input_adjoint();
  layers_[0]->backward(cur, scratch ? sized(g_[0], y_bar.rows(), layers_[0]->in_features()) : x_bar,
                       theta_bar, t_bar);
}

template <class Scalar>
void Sequential<Scalar>::forward_tangent(Scalar t, ConstMatrixView<Scalar> x,
                                         ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                         MatrixView<Scalar> y_dot) {
  assert(!layers_.empty());
  const std::size_t n = layers_.size();
  ConstMatrixView<Scalar> in = x, in_dot = x_dot;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const Index w = layers_[i]->out_features();
    auto out = sized(tacts_[i], x.rows(), w);
    auto out_dot = sized(tdots_[i], x.rows(), w);
    layers_[i]->forward_tangent(t, in, in_dot, out, out_dot);
    new (&in) ConstMatrixView<Scalar>(as_const(out));
    new (&in_dot) ConstMatrixView<Scalar>(as_const(out_dot));
  }
  layers_[n - 1]->forward_tangent(t, in, in_dot, y, y_dot);
}

template <class Scalar>
void Sequential<Scalar>::backward_tangent(ConstMatrixView<Scalar> y_bar,
                                          ConstMatrixView<Scalar> y_dot_bar,
                                          MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                          Scalar* theta_bar, Scalar* t_bar) {
  const std::size_t n = layers_.size();
  ConstMatrixView<Scalar> cur = y_bar, cur_dot = y_dot_bar;
  for (std::size_t i = n; i-- > 1;) {
    const Index w = layers_[i]->in_features();
    auto dst = sized(g_[i % 2], y_bar.rows(), w);
    auto dst_dot = sized(gd_[i % 2], y_bar.rows(), w);
    layers_[i]->backward_tangent(cur, cur_dot, dst, dst_dot,
                                 theta_bar ? theta_bar + offsets_[i] : nullptr, t_bar);
    new (&cur) ConstMatrixView<Scalar>(as_const(dst));
    new (&cur_dot) ConstMatrixView<Scalar>(as_const(dst_dot));
  }
  layers_[0]->backward_tangent(cur, cur_dot, x_bar, x_dot_bar, theta_bar, t_bar);
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace neuralode::nn
