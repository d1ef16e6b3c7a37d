// LayerField: the concrete VectorField f_theta(t, x) = root(t, x) made of one root layer (usually a
// Sequential). It owns the layer and the flat parameter vector the layer's views point into, and
// checks shapes once per call at its public boundary.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "neuralode/nn/layer.hpp"
#include "neuralode/nn/vector_field.hpp"

namespace neuralode::nn {

// Parameters start at zero; fill them with init_default / init_normal (init.hpp) or by writing
// params(). Workspace: the root layer's context for vjp (and tangent context for jvp / jvp_vjp),
// f and jv buffers, plus the root layer's scratch; no allocation after the first call at a given
// batch size. Each public call is self-contained (it runs its own forward before any reverse
// pass), so the field is stateless between calls as its layers are.
template <class Scalar>
class LayerField final : public VectorField<Scalar> {
 public:
  // The root must map dim -> dim (InvalidArgument naming both sizes otherwise).
  explicit LayerField(std::unique_ptr<Layer<Scalar>> root);
  // Not copyable or movable: the layer's views point into params_.
  LayerField(const LayerField&) = delete;
  LayerField& operator=(const LayerField&) = delete;

  Layer<Scalar>& root() { return *root_; }

  // Uses storage (num_params() values, owned by the caller and outliving the field) as the
  // parameter vector from now on, instead of the field's own: a model that embeds the field (an
  // ODE block inside a classifier) keeps all its parameters in one flat vector. The values already
  // in storage are kept; the field's own vector is released.
  void use_external_params(Scalar* storage);

  Index dim() const override { return dim_; }
  Index num_params() const override { return num_params_; }
  std::span<Scalar> params() override { return {data_, static_cast<std::size_t>(num_params_)}; }
  std::span<const Scalar> params() const override {
    return {data_, static_cast<std::size_t>(num_params_)};
  }
  std::vector<ParamView> param_views() const override { return views_; }

  // All throw InvalidArgument naming the shapes when x, a, v, outputs are not batch x dim with a
  // common batch (and t of the per-row calls not batch long).
  void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f) override;
  void forward_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                       MatrixView<Scalar> f) override;
  void vjp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a,
                   Scalar* f_out, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                   Scalar* t_bar) override;
  // Whether jvp and jvp_vjp are available (every layer offers tangent passes).
  bool has_tangent() const { return tangent_ != nullptr; }
  void vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a, Scalar* f_out,
           MatrixView<Scalar> x_bar, Scalar* theta_bar, Scalar* t_bar) override;
  void jvp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v, MatrixView<Scalar> f,
           MatrixView<Scalar> jv) override;
  // The record of an evaluation is the root layer's context (Layer::context_size).
  Index record_size(Index batch) const override { return root_->context_size(batch); }
  void rhs_recorded(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f,
                    Scalar* record) override;
  void vjp_recorded(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a,
                    const Scalar* record, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                    Scalar* t_bar) override;
  void jvp_vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
               ConstMatrixView<Scalar> f_bar, ConstMatrixView<Scalar> jv_bar,
               MatrixView<Scalar> x_bar, MatrixView<Scalar> v_bar, Scalar* theta_bar,
               Scalar* t_bar) override;
  // Per-row tangent passes: every row at one t gives jvp / jvp_vjp's bits (as vjp_per_row).
  void jvp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
                   MatrixView<Scalar> f, MatrixView<Scalar> jv) override;
  void jvp_vjp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                       ConstMatrixView<Scalar> v, ConstMatrixView<Scalar> f_bar,
                       ConstMatrixView<Scalar> jv_bar, MatrixView<Scalar> x_bar,
                       MatrixView<Scalar> v_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  // The shared forward and reverse pass of vjp and vjp_per_row.
  void vjp_impl(const char* where, Time<Scalar> t, ConstMatrixView<Scalar> x,
                ConstMatrixView<Scalar> a, Scalar* f_out, MatrixView<Scalar> x_bar,
                Scalar* theta_bar, Scalar* t_bar);
  // The shared bodies of jvp / jvp_per_row and jvp_vjp / jvp_vjp_per_row.
  void jvp_impl(const char* where, Time<Scalar> t, ConstMatrixView<Scalar> x,
                ConstMatrixView<Scalar> v, MatrixView<Scalar> f, MatrixView<Scalar> jv);
  void jvp_vjp_impl(const char* where, Time<Scalar> t, ConstMatrixView<Scalar> x,
                    ConstMatrixView<Scalar> v, ConstMatrixView<Scalar> f_bar,
                    ConstMatrixView<Scalar> jv_bar, MatrixView<Scalar> x_bar,
                    MatrixView<Scalar> v_bar, Scalar* theta_bar, Scalar* t_bar);
  TangentLayer<Scalar>& tangent_or_throw(const char* where) const;

  std::unique_ptr<Layer<Scalar>> root_;
  TangentLayer<Scalar>* tangent_ = nullptr;  // root_->tangent(), queried once
  Index dim_;
  Index num_params_ = 0;
  std::vector<Scalar> params_;  // own storage, empty after use_external_params
  Scalar* data_ = nullptr;      // params_.data() or the external storage
  std::vector<ParamView> views_;
  std::vector<Scalar> f_, jv_, xb_, vb_, ctx_, tctx_;  // grow-only
};

extern template class LayerField<float>;
extern template class LayerField<double>;

}  // namespace neuralode::nn
