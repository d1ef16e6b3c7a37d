// Layer: one differentiable building block of a vector field f_theta(x, t), with its forward pass
// and its reverse pass (vector-Jacobian products) through a context the caller owns, and, for the
// layers that offer them (TangentLayer), its tangent pass (Jacobian-vector products) and the
// reverse pass of that tangent pass (what continuous normalizing flows need to train tr(df/dx)).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "neuralode/nn/time.hpp"
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

template <class Scalar>
class TangentLayer;

// Contract shared by every layer (see docs/architecture.md, part `nn`):
// - Shapes: inputs are batch x in_features(), outputs batch x out_features(), row-major; an image
//   sample is flattened C*H*W. The batch size may change between calls; a layer's scratch buffers
//   grow then and are reused afterwards (no allocation after the first call at a given batch).
// - Parameters: the layer does not own them. The owner lays out param_specs() in one flat vector
//   and calls bind() with a pointer to this layer's slice (param_specs() sizes, in order).
//   Gradients use the same layout: a theta_bar pointer given to backward points to this layer's
//   slice of the gradient vector, and backward *adds* into it.
// - Stateless: a layer keeps nothing from one call to the next (only scratch space and the
//   parameter binding). What backward needs from its forward goes into a *context* the caller
//   owns: context_size(batch) scalars, written by forward(t, x, y, ctx) and read by
//   backward(t, x, ctx, ...), which is given t and x again. So one layer object may run any number
//   of times in one graph (an RNN cell over T steps, a block shared by two branches): each call
//   has its own context, and the caller keeps each x alive and unchanged until its backward
//   (copying every input would cost a full pass over memory per layer). The context is also what
//   direct backpropagation keeps per stage on its tape (ode::System::record_size).
// - Inference: forward with ctx == nullptr means no backward follows (a solver's right-hand side,
//   an evaluation); the layer may skip what it keeps only for backward (tanh's slope, say). Its
//   output equals the training forward's bit for bit.
// - Time: t is passed to every call (Time: one t for the batch, or one per row). Layers where time
//   enters (ConcatLinear, HyperLinear, ...) add d/dt contributions into t_bar in backward when it
//   is non-null: *t_bar for a shared t, t_bar[r] per row for per-row times.
// - Outputs never alias inputs.
// - Capabilities a layer may lack are queried, never stubbed: tangent() is null for a layer that
//   is not a TangentLayer (an ODE block); skips_input_adjoint() is false unless the layer says so.
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
  virtual void bind(Scalar* /*params*/) {}

  // Scalars of the context of one forward at this batch size (0: backward needs x and t only).
  virtual Index context_size(Index /*batch*/) const { return 0; }
  // y = layer(t, x). ctx: context_size(x.rows()) scalars to fill for backward, or null when no
  // backward follows (inference).
  virtual void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                       Scalar* ctx) = 0;
  // Reverse pass of the forward(t, x, ., ctx) call (t, x and ctx as passed there, unchanged
  // since): x_bar = y_bar^T dy/dx (overwrites), theta_bar += y_bar^T dy/dtheta (if non-null),
  // t_bar += y_bar^T dy/dt (if non-null; see Time).
  virtual void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                        ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                        Scalar* t_bar) = 0;

  // Whether backward() accepts an x_bar whose data() is null, meaning that the caller does not
  // need the input's cotangent (the first layer of a model whose inputs are data, such as an
  // image classifier's first convolution): the layer then adds theta_bar and t_bar only. A layer
  // that says false is always given an x_bar to write.
  virtual bool skips_input_adjoint() const { return false; }

  // The layer's tangent passes, or null if it has none. The default finds a TangentLayer base
  // (one dynamic_cast: callers query once, at construction, not per call); containers override it
  // to offer tangents only when every child does.
  virtual TangentLayer<Scalar>* tangent() { return dynamic_cast<TangentLayer<Scalar>*>(this); }
};

// The optional tangent passes of a layer, with their own context (as Layer's, a caller-owned
// block of tangent_context_size(batch) scalars, written by forward_tangent and read by
// backward_tangent, which is given t, x and x_dot again).
template <class Scalar>
class TangentLayer {
 public:
  virtual Index tangent_context_size(Index /*batch*/) const { return 0; }
  // y = layer(t, x), y_dot = (dy/dx) x_dot.
  virtual void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                               ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                               MatrixView<Scalar> y_dot, Scalar* ctx) = 0;
  // Reverse pass of that tangent pass, given cotangents of both outputs:
  // x_bar = d<y_bar,y> /dx + d<y_dot_bar,y_dot>/dx, x_dot_bar = (dy/dx)^T y_dot_bar,
  // theta_bar += (both terms)/dtheta, t_bar += (both terms)/dt.
  virtual void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                ConstMatrixView<Scalar> x_dot, const Scalar* ctx,
                                ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                                MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                Scalar* theta_bar, Scalar* t_bar) = 0;

 protected:
  ~TangentLayer() = default;
};

// A Layer with tangent passes: what most layers derive from.
template <class Scalar>
class TangentLayerBase : public Layer<Scalar>, public TangentLayer<Scalar> {
 public:
  TangentLayer<Scalar>* tangent() override { return this; }
};

}  // namespace neuralode::nn
