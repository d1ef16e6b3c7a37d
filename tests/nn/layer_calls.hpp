// Layer calls on owning matrices, for tests: the Layer interface takes views, these take
// Matrix objects (fwd, bwd: forward and backward; tfwd, tbwd: the tangent pass and its reverse).
#pragma once

#include <type_traits>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

template <class S>
using M = std::type_identity_t<Matrix<S>>;
template <class S>
ConstMatrixView<S> cv(const Matrix<S>& m) {
  return {m.data(), m.rows(), m.cols()};
}
template <class S>
MatrixView<S> mv(Matrix<S>& m) {
  return {m.data(), m.rows(), m.cols()};
}
template <class S>
void fwd(Layer<S>& l, std::type_identity_t<S> t, const M<S>& x, M<S>& y) {
  l.forward(t, cv(x), mv(y));
}
template <class S>
void bwd(Layer<S>& l, const M<S>& y_bar, M<S>& x_bar, std::type_identity_t<S>* theta_bar,
         std::type_identity_t<S>* t_bar) {
  l.backward(cv(y_bar), mv(x_bar), theta_bar, t_bar);
}
template <class S>
void tfwd(Layer<S>& l, std::type_identity_t<S> t, const M<S>& x, const M<S>& v, M<S>& y,
          M<S>& y_dot) {
  l.forward_tangent(t, cv(x), cv(v), mv(y), mv(y_dot));
}
template <class S>
void tbwd(Layer<S>& l, const M<S>& y_bar, const M<S>& y_dot_bar, M<S>& x_bar, M<S>& v_bar,
          std::type_identity_t<S>* theta_bar, std::type_identity_t<S>* t_bar) {
  l.backward_tangent(cv(y_bar), cv(y_dot_bar), mv(x_bar), mv(v_bar), theta_bar, t_bar);
}

}  // namespace neuralode::nn
