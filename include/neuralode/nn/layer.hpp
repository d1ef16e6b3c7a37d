// Layer: one differentiable building block of a vector field f_theta(x, t), with its forward pass,
// its reverse pass (vector-Jacobian products), its tangent pass (Jacobian-vector products) and the
// reverse pass of that tangent pass (what continuous normalizing flows need to train tr(df/dx)).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "neuralode/types.hpp"

namespace neuralode::nn {

// A named block of parameters inside the flat parameter vector: name ("0.weight"), shape (e.g.
// {out, in} as PyTorch stores it) and offset in the flat vector (set by the owner).
struct ParamView {
  std::string name;
  std::vector<Index> shape;
  Index offset = 0;
  Index size() const {
    Index n = 1;
    for (Index d : shape) n *= d;
    return n;
  }
};

// Contract shared by every layer (see docs/architecture.md, part `nn`):
// - Shapes: inputs are batch x in_features(), outputs batch x out_features(), row-major; an image
//   sample is flattened C*H*W. The batch size may change between calls; buffers grow then and are
//   reused afterwards (no allocation after the first call at a given batch size).
// - Parameters: the layer does not own them. The owner lays out param_specs() in one flat vector
//   and calls bind() with a pointer to this layer's slice (param_specs() sizes, in order).
//   Gradients use the same layout: a theta_bar pointer given to backward points to this layer's
//   slice of the gradient vector, and backward *adds* into it.
// - Caching: forward() keeps what backward() needs for that input until the next forward();
//   forward_tangent() likewise for backward_tangent(); the two caches are independent. A layer may
//   keep a *view* of its inputs x (and x_dot) rather than a copy, so the caller keeps them alive
//   and unchanged until the matching backward (Sequential and LayerField do; copying every input
//   would cost a full pass over memory per layer). Calling backward without a matching forward is
//   a contract violation (asserted). Outputs never alias inputs.
// - Time: t is passed to every call; layers where time enters (ConcatLinear, HyperLinear, ...)
//   add d/dt contributions into *t_bar in backward when t_bar is non-null.
template <class Scalar>
class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string kind() const = 0;  // "Linear", "Tanh", ...
  virtual Index in_features() const = 0;
  virtual Index out_features() const = 0;

  virtual std::vector<ParamView> param_specs() const { return {}; }
  Index num_params() const {
    Index n = 0;
    for (const auto& p : param_specs()) n += p.size();
    return n;
  }
  virtual void bind(Scalar* params) {}

  // y = layer(t, x).
  virtual void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) = 0;
  // y = layer(t, x) when no backward() will follow (a solver's right-hand side, an evaluation): a
  // layer may skip what it keeps only for backward (tanh's slope, say). The default is forward().
  // Calling backward() after forward_inference() with no forward() in between is a contract
  // violation.
  virtual void forward_inference(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) {
    forward(t, x, y);
  }
  // Reverse pass of the last forward: x_bar = y_bar^T dy/dx (overwrites), theta_bar += y_bar^T
  // dy/dtheta (if non-null), *t_bar += y_bar^T dy/dt (if non-null).
  virtual void backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                        Scalar* t_bar) = 0;

  // ---- Recorded passes (optional) ----
  // For callers that keep many evaluations and reverse them later (backpropagation through a
  // solver's steps): forward_recorded writes what backward needs into caller-owned storage, so
  // backward_recorded can run any time later without re-running the forward.
  // record_size(batch): scalars of that storage at this batch size, or -1 if the layer cannot
  // record (the default; callers then fall back to forward + backward).
  virtual Index record_size(Index /*batch*/) const { return -1; }
  // y = layer(t, x), keeping in record[0, record_size) what backward needs besides x (record_size
  // >= 0 only). Leaves the layer's own forward cache undefined.
  virtual void forward_recorded(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                                Scalar* /*record*/) {
    forward(t, x, y);
  }
  // backward() of the forward_recorded(t, x, ., record) call; x and record as passed there and
  // unchanged since. Leaves the layer's own forward cache undefined.
  virtual void backward_recorded(ConstMatrixView<Scalar> /*x*/, const Scalar* /*record*/,
                                 ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                 Scalar* theta_bar, Scalar* t_bar) {
    backward(y_bar, x_bar, theta_bar, t_bar);
  }

  // Whether backward() accepts an x_bar whose data() is null, meaning that the caller does not
  // need the input's cotangent (the first layer of a model whose inputs are data, such as an
  // image classifier's first convolution): the layer then adds theta_bar and t_bar only. A layer
  // that says false is always given an x_bar to write.
  virtual bool skips_input_adjoint() const { return false; }
  // Tangent pass: y = layer(t, x), y_dot = (dy/dx) x_dot.
  virtual void forward_tangent(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                               MatrixView<Scalar> y, MatrixView<Scalar> y_dot) = 0;
  // Reverse pass of the last tangent pass, given cotangents of both outputs:
  // x_bar = d<y_bar,y> /dx + d<y_dot_bar,y_dot>/dx, x_dot_bar = (dy/dx)^T y_dot_bar,
  // theta_bar += (both terms)/dtheta, *t_bar += (both terms)/dt.
  virtual void backward_tangent(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                                MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                Scalar* theta_bar, Scalar* t_bar) = 0;
};

}  // namespace neuralode::nn
