// LayerField: shape checks at the public boundary, then straight to the root layer.
#include "neuralode/nn/layer_field.hpp"

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

template <class Scalar>
void LayerField<Scalar>::forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f) {
  check_x("LayerField::forward", x, dim_);
  ShapeCheck{"LayerField::forward", x.rows(), dim_}("f", f);
  root_->forward_inference(t, x, f);  // no vjp follows: vjp runs its own forward
}

template <class Scalar>
void LayerField<Scalar>::vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a,
                             Scalar* f_out, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                             Scalar* t_bar) {
  check_x("LayerField::vjp", x, dim_);
  const ShapeCheck check{"LayerField::vjp", x.rows(), dim_};
  check("a", a);
  check("x_bar", x_bar);
  auto f = f_out ? MatrixView<Scalar>(f_out, x.rows(), dim_) : sized(f_, x.rows(), dim_);
  root_->forward(t, x, f);
  root_->backward(a, x_bar, theta_bar, t_bar);
}

template <class Scalar>
void LayerField<Scalar>::rhs_recorded(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f,
                                      Scalar* record) {
  check_x("LayerField::rhs_recorded", x, dim_);
  ShapeCheck{"LayerField::rhs_recorded", x.rows(), dim_}("f", f);
  root_->forward_recorded(t, x, f, record);
}

template <class Scalar>
void LayerField<Scalar>::vjp_recorded(Scalar, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a,
                                      const Scalar* record, MatrixView<Scalar> x_bar,
                                      Scalar* theta_bar, Scalar* t_bar) {
  check_x("LayerField::vjp_recorded", x, dim_);
  const ShapeCheck check{"LayerField::vjp_recorded", x.rows(), dim_};
  check("a", a);
  check("x_bar", x_bar);
  root_->backward_recorded(x, record, a, x_bar, theta_bar, t_bar);
}

template <class Scalar>
void LayerField<Scalar>::jvp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
                             MatrixView<Scalar> f, MatrixView<Scalar> jv) {
  check_x("LayerField::jvp", x, dim_);
  const ShapeCheck check{"LayerField::jvp", x.rows(), dim_};
  check("v", v);
  check("f", f);
  check("jv", jv);
  root_->forward_tangent(t, x, v, f, jv);
}

template <class Scalar>
void LayerField<Scalar>::jvp_vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
                                 ConstMatrixView<Scalar> f_bar, ConstMatrixView<Scalar> jv_bar,
                                 MatrixView<Scalar> x_bar, MatrixView<Scalar> v_bar,
                                 Scalar* theta_bar, Scalar* t_bar) {
  check_x("LayerField::jvp_vjp", x, dim_);
  const ShapeCheck check{"LayerField::jvp_vjp", x.rows(), dim_};
  check("v", v);
  check("f_bar", f_bar);
  check("jv_bar", jv_bar);
  check("x_bar", x_bar);
  check("v_bar", v_bar);
  root_->forward_tangent(t, x, v, sized(f_, x.rows(), dim_), sized(jv_, x.rows(), dim_));
  root_->backward_tangent(f_bar, jv_bar, x_bar, v_bar, theta_bar, t_bar);
}

template class LayerField<float>;
template class LayerField<double>;

}  // namespace neuralode::nn
