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
  in_f_.push_back(layers_.back()->in_features());
  out_f_.push_back(layers_.back()->out_features());
  tangents_.push_back(layers_.back()->tangent());
  all_tangent_ = all_tangent_ && tangents_.back() != nullptr;
  layout_[0].batch = layout_[1].batch = -1;  // the layout changes with the layers
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

// Context layout, layer by layer: layer i's own context, then (all but the last) its output,
// which is layer i+1's input. The tangent layout: layer i's own tangent context, then its two
// outputs y_i and y_dot_i.
template <class Scalar>
const typename Sequential<Scalar>::Layout& Sequential<Scalar>::layout(Index batch,
                                                                      bool tangent) const {
  Layout& l = layout_[tangent ? 1 : 0];
  if (l.batch == batch) return l;
  const std::size_t n = layers_.size();
  l.own.assign(n, 0);
  l.in.assign(n, -1);
  l.in_dot.assign(n, -1);
  Index p = 0;
  for (std::size_t i = 0; i < n; ++i) {
    l.own[i] = p;
    p += tangent ? tangents_[i]->tangent_context_size(batch) : layers_[i]->context_size(batch);
    if (i + 1 < n) {
      const Index w = batch * layers_[i]->out_features();
      l.in[i + 1] = p;
      p += w;
      if (tangent) {
        l.in_dot[i + 1] = p;
        p += w;
      }
    }
  }
  l.size = p;
  l.batch = batch;
  return l;
}

template <class Scalar>
Index Sequential<Scalar>::context_size(Index batch) const {
  return layout(batch, false).size;
}

template <class Scalar>
Index Sequential<Scalar>::tangent_context_size(Index batch) const {
  assert(all_tangent_);
  return layout(batch, true).size;
}

template <class Scalar>
void Sequential<Scalar>::locate(ConstMatrixView<Scalar> x, const Scalar* x_dot, Scalar* ctx,
                                bool tangent) {
  const Layout& l = layout(x.rows(), tangent);
  const std::size_t n = layers_.size();
  in_.resize(n);
  in_dot_.resize(n);
  own_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    own_[i] = ctx + l.own[i];
    in_[i] = i == 0 ? x.data() : ctx + l.in[i];
    in_dot_[i] = i == 0 ? x_dot : (tangent ? ctx + l.in_dot[i] : nullptr);
  }
}

// Inference (ctx null): each layer's output feeds the next through the two scratch buffers in
// turn. Training: through the context, where backward finds them.
template <class Scalar>
void Sequential<Scalar>::forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                                 Scalar* ctx) {
  assert(!layers_.empty());
  const std::size_t n = layers_.size();
  const Index batch = x.rows();
  if (!ctx) {
    ConstMatrixView<Scalar> in = x;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      auto out = sized(acts_[i % 2], batch, out_f_[i]);
      layers_[i]->forward(t, in, out, nullptr);
      new (&in) ConstMatrixView<Scalar>(as_const(out));
    }
    layers_[n - 1]->forward(t, in, y, nullptr);
    return;
  }
  // Pointers straight from the cached layout (this and backward run per solver stage).
  const Layout& l = layout(batch, false);
  const Scalar* in = x.data();
  for (std::size_t i = 0; i < n; ++i) {
    const ConstMatrixView<Scalar> in_view(in, batch, in_f_[i]);
    if (i + 1 < n) {
      Scalar* out = ctx + l.in[i + 1];  // layer i+1's input, inside the caller's context
      layers_[i]->forward(t, in_view, MatrixView<Scalar>(out, batch, out_f_[i]), ctx + l.own[i]);
      in = out;
    } else {
      layers_[i]->forward(t, in_view, y, ctx + l.own[i]);
    }
  }
}

// The layers' reverse passes, last to first, through the ping-pong buffers (layer i reads one and
// writes the other, so nothing aliases).
template <class Scalar>
void Sequential<Scalar>::backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                                  ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                  Scalar* theta_bar, Scalar* t_bar) {
  const std::size_t n = layers_.size();
  const Index batch = x.rows();
  const Layout& l = layout(batch, false);
  auto input = [&](std::size_t i) {
    return ConstMatrixView<Scalar>(i == 0 ? x.data() : ctx + l.in[i], batch, in_f_[i]);
  };
  ConstMatrixView<Scalar> cur = y_bar;
  for (std::size_t i = n; i-- > 1;) {
    auto dst = sized(g_[i % 2], batch, in_f_[i]);
    layers_[i]->backward(t, input(i), ctx + l.own[i], cur, dst,
                         theta_bar ? theta_bar + offsets_[i] : nullptr, t_bar);
    new (&cur) ConstMatrixView<Scalar>(as_const(dst));
  }
  // Without an x_bar, a first layer that cannot skip its input's cotangent writes it into the
  // ping-pong buffer layer 1 did not use (g_[0]; layer 1 wrote g_[1]).
  const bool scratch = x_bar.data() == nullptr && !layers_[0]->skips_input_adjoint();
  layers_[0]->backward(t, input(0), ctx + l.own[0], cur,
                       scratch ? sized(g_[0], batch, in_f_[0]) : x_bar, theta_bar, t_bar);
}

template <class Scalar>
void Sequential<Scalar>::forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                         ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                         MatrixView<Scalar> y_dot, Scalar* ctx) {
  assert(!layers_.empty() && all_tangent_);
  locate(x, x_dot.data(), ctx, true);
  const std::size_t n = layers_.size();
  const Index batch = x.rows();
  for (std::size_t i = 0; i < n; ++i) {
    const Index wi = layers_[i]->in_features();
    const ConstMatrixView<Scalar> in(in_[i], batch, wi), in_dot(in_dot_[i], batch, wi);
    if (i + 1 < n) {
      const Index w = layers_[i]->out_features();
      tangents_[i]->forward_tangent(
          t, in, in_dot, MatrixView<Scalar>(const_cast<Scalar*>(in_[i + 1]), batch, w),
          MatrixView<Scalar>(const_cast<Scalar*>(in_dot_[i + 1]), batch, w), own_[i]);
    } else {
      tangents_[i]->forward_tangent(t, in, in_dot, y, y_dot, own_[i]);
    }
  }
}

template <class Scalar>
void Sequential<Scalar>::backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                          ConstMatrixView<Scalar> x_dot, const Scalar* ctx,
                                          ConstMatrixView<Scalar> y_bar,
                                          ConstMatrixView<Scalar> y_dot_bar,
                                          MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                          Scalar* theta_bar, Scalar* t_bar) {
  assert(all_tangent_);
  locate(x, x_dot.data(), const_cast<Scalar*>(ctx), true);
  const std::size_t n = layers_.size();
  const Index batch = x.rows();
  ConstMatrixView<Scalar> cur = y_bar, cur_dot = y_dot_bar;
  for (std::size_t i = n; i-- > 0;) {
    const Index w = layers_[i]->in_features();
    const ConstMatrixView<Scalar> in(in_[i], batch, w), in_dot(in_dot_[i], batch, w);
    if (i == 0) {
      tangents_[0]->backward_tangent(t, in, in_dot, own_[0], cur, cur_dot, x_bar, x_dot_bar,
                                     theta_bar, t_bar);
      break;
    }
    auto dst = sized(g_[i % 2], batch, w);
    auto dst_dot = sized(gd_[i % 2], batch, w);
    tangents_[i]->backward_tangent(t, in, in_dot, own_[i], cur, cur_dot, dst, dst_dot,
                                   theta_bar ? theta_bar + offsets_[i] : nullptr, t_bar);
    new (&cur) ConstMatrixView<Scalar>(as_const(dst));
    new (&cur_dot) ConstMatrixView<Scalar>(as_const(dst_dot));
  }
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace neuralode::nn
