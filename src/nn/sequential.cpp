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

// The layers' reverse passes, last to first, through the ping-pong buffers; back(i, y_bar_i,
// x_bar_i, theta_bar_i) runs layer i's (plain or recorded).
template <class Scalar>
template <class Back>
void Sequential<Scalar>::reverse(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                 Scalar* theta_bar, Back&& back) {
  const std::size_t n = layers_.size();
  ConstMatrixView<Scalar> cur = y_bar;
  for (std::size_t i = n; i-- > 1;) {
    auto dst = sized(g_[i % 2], y_bar.rows(), layers_[i]->in_features());
    back(i, cur, dst, theta_bar ? theta_bar + offsets_[i] : nullptr);
    new (&cur) ConstMatrixView<Scalar>(as_const(dst));
  }
  // Without an x_bar, a first layer that cannot skip its input's cotangent writes it into the
  // ping-pong buffer layer 1 did not use (g_[0]; layer 1 wrote g_[1]).
  const bool scratch = x_bar.data() == nullptr && !layers_[0]->skips_input_adjoint();
  back(0, cur, scratch ? sized(g_[0], y_bar.rows(), layers_[0]->in_features()) : x_bar, theta_bar);
}

template <class Scalar>
void Sequential<Scalar>::backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                  Scalar* theta_bar, Scalar* t_bar) {
  reverse(y_bar, x_bar, theta_bar,
          [&](std::size_t i, ConstMatrixView<Scalar> yb, MatrixView<Scalar> xb, Scalar* tb) {
            layers_[i]->backward(yb, xb, tb, t_bar);
          });
}

// Record layout, layer by layer: layer i's own record, then (all but the last) its output, which
// is layer i+1's input.
template <class Scalar>
Index Sequential<Scalar>::record_size(Index batch) const {
  Index total = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Index own = layers_[i]->record_size(batch);
    if (own < 0) return -1;
    total += own + (i + 1 < layers_.size() ? batch * layers_[i]->out_features() : 0);
  }
  return total;
}

template <class Scalar>
void Sequential<Scalar>::locate_record(ConstMatrixView<Scalar> x, Scalar* record) {
  const Index batch = x.rows();
  rec_in_.resize(layers_.size());
  rec_own_.resize(layers_.size());
  Scalar* p = record;
  const Scalar* in = x.data();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    rec_in_[i] = in;
    rec_own_[i] = p;
    p += layers_[i]->record_size(batch);
    if (i + 1 < layers_.size()) {
      in = p;
      p += batch * layers_[i]->out_features();
    }
  }
}

template <class Scalar>
void Sequential<Scalar>::forward_recorded(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                                          Scalar* record) {
  assert(!layers_.empty());
  locate_record(x, record);
  const std::size_t n = layers_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const ConstMatrixView<Scalar> in(rec_in_[i], x.rows(), layers_[i]->in_features());
    if (i + 1 < n) {
      Scalar* out = const_cast<Scalar*>(rec_in_[i + 1]);  // inside the caller's record
      layers_[i]->forward_recorded(
          t, in, MatrixView<Scalar>(out, x.rows(), layers_[i]->out_features()), rec_own_[i]);
    } else {
      layers_[i]->forward_recorded(t, in, y, rec_own_[i]);
    }
  }
}

template <class Scalar>
void Sequential<Scalar>::backward_recorded(ConstMatrixView<Scalar> x, const Scalar* record,
                                           ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                           Scalar* theta_bar, Scalar* t_bar) {
  locate_record(x, const_cast<Scalar*>(record));  // only read from here on
  const Index batch = x.rows();
  reverse(y_bar, x_bar, theta_bar,
          [&](std::size_t i, ConstMatrixView<Scalar> yb, MatrixView<Scalar> xb, Scalar* tb) {
            layers_[i]->backward_recorded(
                ConstMatrixView<Scalar>(rec_in_[i], batch, layers_[i]->in_features()), rec_own_[i],
                yb, xb, tb, t_bar);
          });
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
