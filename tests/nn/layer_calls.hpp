// Layer calls on owning matrices, for tests: the Layer interface takes views and a caller-owned
// context; these take Matrix objects (fwd, bwd: forward and backward; tfwd, tbwd: the tangent pass
// and its reverse) and pair each backward with the last forward of that layer through contexts
// kept here, per layer (the caller keeps x and v alive and unchanged in between, as for any layer).
#pragma once

#include <algorithm>
#include <map>
#include <type_traits>
#include <vector>

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

namespace test_detail {
// What fwd / tfwd leave for the matching bwd / tbwd of the same layer.
template <class S>
struct Saved {
  S t = 0;
  const S* x = nullptr;
  const S* x_dot = nullptr;
  Index rows = 0;
  std::vector<S> ctx;
};
template <class S>
Saved<S>& saved(const void* layer, bool tangent) {
  static std::map<std::pair<const void*, bool>, Saved<S>> all;
  return all[{layer, tangent}];
}
template <class S>
S* sized(std::vector<S>& v, Index n) {
  v.assign(static_cast<std::size_t>(std::max<Index>(n, 1)), S(0));
  return v.data();
}
}  // namespace test_detail

template <class S>
void fwd(Layer<S>& l, std::type_identity_t<S> t, const M<S>& x, M<S>& y) {
  auto& s = test_detail::saved<S>(&l, false);
  s.t = t;
  s.x = x.data();
  s.rows = x.rows();
  l.forward(t, cv(x), mv(y), test_detail::sized(s.ctx, l.context_size(x.rows())));
}
template <class S>
void bwd(Layer<S>& l, const M<S>& y_bar, M<S>& x_bar, std::type_identity_t<S>* theta_bar,
         std::type_identity_t<S>* t_bar) {
  auto& s = test_detail::saved<S>(&l, false);
  l.backward(s.t, ConstMatrixView<S>(s.x, s.rows, l.in_features()), s.ctx.data(), cv(y_bar),
             mv(x_bar), theta_bar, t_bar);
}
template <class S>
void tfwd(Layer<S>& l, std::type_identity_t<S> t, const M<S>& x, const M<S>& v, M<S>& y,
          M<S>& y_dot) {
  auto& s = test_detail::saved<S>(&l, true);
  s.t = t;
  s.x = x.data();
  s.x_dot = v.data();
  s.rows = x.rows();
  l.tangent()->forward_tangent(
      t, cv(x), cv(v), mv(y), mv(y_dot),
      test_detail::sized(s.ctx, l.tangent()->tangent_context_size(x.rows())));
}
template <class S>
void tbwd(Layer<S>& l, const M<S>& y_bar, const M<S>& y_dot_bar, M<S>& x_bar, M<S>& v_bar,
          std::type_identity_t<S>* theta_bar, std::type_identity_t<S>* t_bar) {
  auto& s = test_detail::saved<S>(&l, true);
  const Index in = l.in_features();
  l.tangent()->backward_tangent(s.t, ConstMatrixView<S>(s.x, s.rows, in),
                                ConstMatrixView<S>(s.x_dot, s.rows, in), s.ctx.data(), cv(y_bar),
                                cv(y_dot_bar), mv(x_bar), mv(v_bar), theta_bar, t_bar);
}

}  // namespace neuralode::nn
