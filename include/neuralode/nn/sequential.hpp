// Sequential: layers applied one after the other, y = L_n(... L_1(t, x)), as PyTorch's
// nn.Sequential. Parameters are the layers' in order, named "<index>.<name>" ("0.weight").
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

// Owns its layers. Context: layer by layer, layer i's own context and then (all but the last) its
// output, which is layer i+1's input and is kept for the reverse pass; the tangent context
// likewise with both outputs of each tangent pass. Scratch: the intermediate outputs of an
// inference forward and two ping-pong buffers of the widest layer for the reverse passes, sized on
// the first call at a batch size. Tangent passes are offered when every layer offers them.
template <class Scalar>
class Sequential : public Layer<Scalar>, public TangentLayer<Scalar> {
 public:
  Sequential() = default;
  // Sequential(std::make_unique<Linear<float>>(2, 50), std::make_unique<Activation<float>>(...))
  template <class... L>
  explicit Sequential(std::unique_ptr<L>... layers) {
    (add(std::move(layers)), ...);
  }

  // Appends a layer. Throws InvalidArgument if its in_features() differs from the previous
  // layer's out_features(), naming both layers. Re-bind after adding (offsets change).
  Sequential& add(std::unique_ptr<Layer<Scalar>> layer);
  Index size() const { return static_cast<Index>(layers_.size()); }
  Layer<Scalar>& operator[](Index i) { return *layers_[static_cast<std::size_t>(i)]; }

  std::string kind() const override { return "Sequential"; }
  Index in_features() const override;
  Index out_features() const override;
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override;

  TangentLayer<Scalar>* tangent() override { return all_tangent_ ? this : nullptr; }

  Index context_size(Index batch) const override;
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  // x_bar may have a null data(): the first layer then skips the input's cotangent if it can
  // (skips_input_adjoint), or writes it into a scratch buffer.
  bool skips_input_adjoint() const override { return true; }
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  // Only when tangent() is non-null (asserted).
  Index tangent_context_size(Index batch) const override;
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot, Scalar* ctx) override;
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  // Where layer i's input (in_[i], in_dot_[i]) and own tangent context (own_[i]) lie for a
  // tangent context starting at ctx. Scratch filled at the start of each tangent call.
  void locate(ConstMatrixView<Scalar> x, const Scalar* x_dot, Scalar* ctx, bool tangent);

  std::vector<std::unique_ptr<Layer<Scalar>>> layers_;
  std::vector<TangentLayer<Scalar>*> tangents_;  // layers_[i]->tangent(), queried once in add()
  bool all_tangent_ = true;
  std::vector<Index> offsets_;  // parameter offset of each layer
  // Each layer's in_features() and out_features(), kept at add(): the per-stage forward and
  // backward read them without a virtual call each.
  std::vector<Index> in_f_, out_f_;
  // Inference forward: outputs of layer i, i < n-1 (grow-only; alternating, two suffice).
  std::vector<Scalar> acts_[2];
  // Reverse-pass ping-pong buffers, grow-only: they serve layers of different widths in turn.
  std::vector<Scalar> g_[2], gd_[2];
  std::vector<const Scalar*> in_, in_dot_;
  std::vector<Scalar*> own_;
  // Offsets of each layer's own context and of its input (and input tangent) inside the context
  // at one batch size, and the total: computed on the first call at a batch size (a solver calls
  // with one batch many times), recomputed when it changes or a layer is added. [0]: forward
  // context, [1]: tangent context.
  struct Layout {
    Index batch = -1, size = 0;
    std::vector<Index> own, in, in_dot;
  };
  mutable Layout layout_[2];
  const Layout& layout(Index batch, bool tangent) const;
};

extern template class Sequential<float>;
extern template class Sequential<double>;

}  // namespace neuralode::nn
