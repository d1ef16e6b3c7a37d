// LayerField: shape checks at the public boundary, then straight to the root layer.
#include "neuralode/nn/layer_field.hpp"

#include <algorithm>
#include <string>

#include "neuralode/error.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {
namespace {

// Throws unless every named matrix is batch x dim with the batch of the first.
struct ShapeCheck {
  const char* where;
  Index batch, dim;
  template <class M>
  void operator()(const char* name, const M& m) const {
    if (m.rows() != batch || m.cols() != dim) {
      throw InvalidArgument(std::string(where) + ": " + name + " is " +
                            detail::shape_string(m.rows(), m.cols()) +
                            " but must be batch x dim = " + detail::shape_string(batch, dim) +
                            " (batch from x, dim of the field)");
    }
  }
};

template <class Scalar>
void check_x(const char* where, ConstMatrixView<Scalar> x, Index dim) {
  if (x.cols() != dim) {
    throw InvalidArgument(std::string(where) + ": x is " +
                          detail::shape_string(x.rows(), x.cols()) + " but the field has dim " +
                          std::to_string(dim) + "; x must be batch x " + std::to_string(dim));
  }
}

template <class Scalar>
MatrixView<Scalar> sized(std::vector<Scalar>& buf, Index rows, Index cols) {
  return detail::grow_view(buf, rows, cols);
}

}  // namespace

template <class Scalar>
LayerField<Scalar>::LayerField(std::unique_ptr<Layer<Scalar>> root) : root_(std::move(root)) {
  if (!root_) throw InvalidArgument("LayerField: root layer is null");
  if (root_->in_features() != root_->out_features() || root_->in_features() < 1) {
    throw InvalidArgument("LayerField: the root layer (" + root_->kind() + ") maps " +
                          std::to_string(root_->in_features()) + " features to " +
                          std::to_string(root_->out_features()) +
                          "; a vector field needs dim -> dim with dim >= 1");
  }
  dim_ = root_->in_features();
  tangent_ = root_->tangent();
  views_ = root_->param_specs();
  num_params_ = root_->num_params();
  params_.assign(static_cast<std::size_t>(num_params_), Scalar(0));
  data_ = params_.data();
  root_->bind(data_);
}

template <class Scalar>
void LayerField<Scalar>::use_external_params(Scalar* storage) {
  if (!storage && num_params_ > 0)
    throw InvalidArgument("LayerField::use_external_params: storage is null");
  data_ = storage;
  root_->bind(data_);
  std::vector<Scalar>().swap(params_);
}

namespace {

template <class Scalar>
void check_t(const char* where, std::span<const Scalar> t, Index batch) {
  if (static_cast<Index>(t.size()) != batch) {
    throw InvalidArgument(std::string(where) + ": t has " + std::to_string(t.size()) +
                          " times but x has " + std::to_string(batch) +
                          " rows; per-row time needs one time per row");
  }
}

// A context of n scalars; never null (even at n = 0), since a null context means inference.
template <class Scalar>
Scalar* context(std::vector<Scalar>& buf, Index n) {
  return detail::grow_view(buf, 1, std::max<Index>(n, 1)).data();
}

}  // namespace

template <class Scalar>
TangentLayer<Scalar>& LayerField<Scalar>::tangent_or_throw(const char* where) const {
  if (!tangent_) {
    throw InvalidArgument(std::string(where) + ": the root layer (" + root_->kind() +
                          ") has no tangent passes (a layer inside it, such as an OdeBlock, is "
                          "not a TangentLayer); jvp and jvp_vjp need every layer to offer them");
  }
  return *tangent_;
}

template <class Scalar>
void LayerField<Scalar>::forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f) {
  check_x("LayerField::forward", x, dim_);
  ShapeCheck{"LayerField::forward", x.rows(), dim_}("f", f);
  root_->forward(t, x, f, nullptr);  // inference: no vjp follows (vjp runs its own forward)
}

template <class Scalar>
void LayerField<Scalar>::forward_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                                         MatrixView<Scalar> f) {
  check_x("LayerField::forward_per_row", x, dim_);
  ShapeCheck{"LayerField::forward_per_row", x.rows(), dim_}("f", f);
  check_t("LayerField::forward_per_row", t, x.rows());
  root_->forward(Time<Scalar>(t), x, f, nullptr);
}

template <class Scalar>
void LayerField<Scalar>::vjp_impl(const char* where, Time<Scalar> t, ConstMatrixView<Scalar> x,
                                  ConstMatrixView<Scalar> a, Scalar* f_out,
                                  MatrixView<Scalar> x_bar, Scalar* theta_bar, Scalar* t_bar) {
  check_x(where, x, dim_);
  const ShapeCheck check{where, x.rows(), dim_};
  check("a", a);
  check("x_bar", x_bar);
  auto f = f_out ? MatrixView<Scalar>(f_out, x.rows(), dim_) : sized(f_, x.rows(), dim_);
  Scalar* ctx = context(ctx_, root_->context_size(x.rows()));
  root_->forward(t, x, f, ctx);
  root_->backward(t, x, ctx, a, x_bar, theta_bar, t_bar);
}

template <class Scalar>
void LayerField<Scalar>::vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a,
                             Scalar* f_out, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                             Scalar* t_bar) {
  vjp_impl("LayerField::vjp", t, x, a, f_out, x_bar, theta_bar, t_bar);
}

template <class Scalar>
void LayerField<Scalar>::vjp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                                     ConstMatrixView<Scalar> a, Scalar* f_out,
                                     MatrixView<Scalar> x_bar, Scalar* theta_bar, Scalar* t_bar) {
  check_t("LayerField::vjp_per_row", t, x.rows());
  const Time<Scalar> tt(t);
  const Time<Scalar> shared = collapsed(tt, x.rows());
  if (shared.per_row() || !t_bar) {
    vjp_impl("LayerField::vjp_per_row", shared, x, a, f_out, x_bar, theta_bar, t_bar);
    return;
  }
  // Every row at one t: f, x_bar and theta_bar from the shared-time call, bit for bit as vjp
  // gives them; the per-row t_bar from a second, per-row pass (its other outputs discarded).
  vjp_impl("LayerField::vjp_per_row", shared, x, a, f_out, x_bar, theta_bar, nullptr);
  vjp_impl("LayerField::vjp_per_row", tt, x, a, nullptr, sized(xb_, x.rows(), dim_), nullptr,
           t_bar);
}

template <class Scalar>
void LayerField<Scalar>::rhs_recorded(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f,
                                      Scalar* record) {
  check_x("LayerField::rhs_recorded", x, dim_);
  ShapeCheck{"LayerField::rhs_recorded", x.rows(), dim_}("f", f);
  root_->forward(t, x, f, record);
}

template <class Scalar>
void LayerField<Scalar>::vjp_recorded(Scalar t, ConstMatrixView<Scalar> x,
                                      ConstMatrixView<Scalar> a, const Scalar* record,
                                      MatrixView<Scalar> x_bar, Scalar* theta_bar, Scalar* t_bar) {
  check_x("LayerField::vjp_recorded", x, dim_);
  const ShapeCheck check{"LayerField::vjp_recorded", x.rows(), dim_};
  check("a", a);
  check("x_bar", x_bar);
  root_->backward(t, x, record, a, x_bar, theta_bar, t_bar);
}

template <class Scalar>
void LayerField<Scalar>::jvp_impl(const char* where, Time<Scalar> t, ConstMatrixView<Scalar> x,
                                  ConstMatrixView<Scalar> v, MatrixView<Scalar> f,
                                  MatrixView<Scalar> jv) {
  auto& tangent = tangent_or_throw(where);
  check_x(where, x, dim_);
  const ShapeCheck check{where, x.rows(), dim_};
  check("v", v);
  check("f", f);
  check("jv", jv);
  Scalar* ctx = context(tctx_, tangent.tangent_context_size(x.rows()));
  tangent.forward_tangent(t, x, v, f, jv, ctx);
}

template <class Scalar>
void LayerField<Scalar>::jvp_vjp_impl(const char* where, Time<Scalar> t, ConstMatrixView<Scalar> x,
                                      ConstMatrixView<Scalar> v, ConstMatrixView<Scalar> f_bar,
                                      ConstMatrixView<Scalar> jv_bar, MatrixView<Scalar> x_bar,
                                      MatrixView<Scalar> v_bar, Scalar* theta_bar, Scalar* t_bar) {
  auto& tangent = tangent_or_throw(where);
  check_x(where, x, dim_);
  const ShapeCheck check{where, x.rows(), dim_};
  check("v", v);
  check("f_bar", f_bar);
  check("jv_bar", jv_bar);
  check("x_bar", x_bar);
  check("v_bar", v_bar);
  Scalar* ctx = context(tctx_, tangent.tangent_context_size(x.rows()));
  tangent.forward_tangent(t, x, v, sized(f_, x.rows(), dim_), sized(jv_, x.rows(), dim_), ctx);
  tangent.backward_tangent(t, x, v, ctx, f_bar, jv_bar, x_bar, v_bar, theta_bar, t_bar);
}

template <class Scalar>
void LayerField<Scalar>::jvp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
                             MatrixView<Scalar> f, MatrixView<Scalar> jv) {
  jvp_impl("LayerField::jvp", t, x, v, f, jv);
}

template <class Scalar>
void LayerField<Scalar>::jvp_vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
                                 ConstMatrixView<Scalar> f_bar, ConstMatrixView<Scalar> jv_bar,
                                 MatrixView<Scalar> x_bar, MatrixView<Scalar> v_bar,
                                 Scalar* theta_bar, Scalar* t_bar) {
  jvp_vjp_impl("LayerField::jvp_vjp", t, x, v, f_bar, jv_bar, x_bar, v_bar, theta_bar, t_bar);
}

template <class Scalar>
void LayerField<Scalar>::jvp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                                     ConstMatrixView<Scalar> v, MatrixView<Scalar> f,
                                     MatrixView<Scalar> jv) {
  check_t("LayerField::jvp_per_row", t, x.rows());
  jvp_impl("LayerField::jvp_per_row", collapsed(Time<Scalar>(t), x.rows()), x, v, f, jv);
}

template <class Scalar>
void LayerField<Scalar>::jvp_vjp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                                         ConstMatrixView<Scalar> v, ConstMatrixView<Scalar> f_bar,
                                         ConstMatrixView<Scalar> jv_bar, MatrixView<Scalar> x_bar,
                                         MatrixView<Scalar> v_bar, Scalar* theta_bar,
                                         Scalar* t_bar) {
  const char* where = "LayerField::jvp_vjp_per_row";
  check_t(where, t, x.rows());
  const Time<Scalar> tt(t);
  const Time<Scalar> shared = collapsed(tt, x.rows());
  if (shared.per_row() || !t_bar) {
    jvp_vjp_impl(where, shared, x, v, f_bar, jv_bar, x_bar, v_bar, theta_bar, t_bar);
    return;
  }
  // Every row at one t: the other outputs from the shared-time call, bit for bit as jvp_vjp gives
  // them; the per-row t_bar from a second, per-row pass (its other outputs discarded).
  jvp_vjp_impl(where, shared, x, v, f_bar, jv_bar, x_bar, v_bar, theta_bar, nullptr);
  jvp_vjp_impl(where, tt, x, v, f_bar, jv_bar, sized(xb_, x.rows(), dim_),
               sized(vb_, x.rows(), dim_), nullptr, t_bar);
}

template class LayerField<float>;
template class LayerField<double>;

}  // namespace neuralode::nn
