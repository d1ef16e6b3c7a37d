// Sequential: layers applied one after the other, y = L_n(... L_1(t, x)), as PyTorch's
// nn.Sequential. Parameters are the layers' in order, named "<index>.<name>" ("0.weight").
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

// Owns its layers. Workspace: every intermediate output (kept for the reverse pass, since layers
// keep views of their inputs) and two ping-pong buffers of the widest layer for the reverse pass;
// the tangent pass has its own set. All are sized on the first call at a batch size.
template <class Scalar>
class Sequential : public Layer<Scalar> {
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

  void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) override;
  void forward_inference(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) override;
  // x_bar may have a null data(): the first layer then skips the input's cotangent if it can
  // (skips_input_adjoint), or writes it into a scratch buffer.
  bool skips_input_adjoint() const override { return true; }
  void backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  // Records every layer's record and every intermediate output (-1 if a layer cannot record).
  Index record_size(Index batch) const override;
  void forward_recorded(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                        Scalar* record) override;
  void backward_recorded(ConstMatrixView<Scalar> x, const Scalar* record,
                         ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                         Scalar* t_bar) override;
  void forward_tangent(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot) override;
  void backward_tangent(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                        MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                        Scalar* t_bar) override;

 private:
  template <class Back>
  void reverse(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
               Back&& back);
  // rec_in_[i], rec_own_[i]: layer i's input and own record inside a record starting at `record`.
  void locate_record(ConstMatrixView<Scalar> x, Scalar* record);
  template <bool kInference>
  void chain(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y);

  std::vector<std::unique_ptr<Layer<Scalar>>> layers_;
  std::vector<Index> offsets_;  // parameter offset of each layer
  // Output of layer i, i < n-1, of the forward and of the tangent pass (grow-only buffers).
  std::vector<std::vector<Scalar>> acts_, tacts_, tdots_;
  // Reverse-pass ping-pong buffers, grow-only: they serve layers of different widths in turn.
  std::vector<Scalar> g_[2], gd_[2];
  std::vector<const Scalar*> rec_in_;
  std::vector<Scalar*> rec_own_;
};

extern template class Sequential<float>;
extern template class Sequential<double>;

}  // namespace neuralode::nn
