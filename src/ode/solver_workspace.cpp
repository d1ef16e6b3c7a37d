// SolverWorkspace: buffer sizing.
#include "neuralode/ode/solver_workspace.hpp"

namespace neuralode::ode {

template <class Scalar>
void SolverWorkspace<Scalar>::resize(const ButcherTableau& tableau, Index batch, Index dim,
                                     bool keep_stage_inputs) {
  if (tableau_ == &tableau && batch_ == batch && dim_ == dim &&
      keep_stage_inputs_ == keep_stage_inputs)
    return;
  const Index s = tableau.stages;
  const Index n = batch * dim;
  auto cast = [](const std::vector<double>& from, std::vector<Scalar>& to) {
    to.assign(from.begin(), from.end());
  };
  cast(tableau.c, c);
  cast(tableau.a, a);
  cast(tableau.b, b);
  e.assign(static_cast<std::size_t>(s), Scalar(0));
  if (tableau.adaptive())
    for (Index i = 0; i < s; ++i) e[i] = static_cast<Scalar>(tableau.b[i] - tableau.bhat[i]);
  cast(tableau.dense, dense);
  k.resize(s, n);
  stage.resize(keep_stage_inputs ? s : 1, n);
  y.resize(n);
  y_new.resize(n);
  if (f_end.size() != 0 && f_end.size() != n) f_end.resize(0);  // sized by the solve needing it
  w.assign(static_cast<std::size_t>(s + 1), 0.0);
  tableau_ = &tableau;
  batch_ = batch;
  dim_ = dim;
  keep_stage_inputs_ = keep_stage_inputs;
}

template <class Scalar>
void SolverWorkspace<Scalar>::resize_quadrature(Index q, bool adaptive, bool error_in_norm) {
  auto size = [q](Vector<Scalar>& v, bool needed) {
    if (needed ? v.size() != q : v.size() != 0 && v.size() != q) v.resize(needed ? q : 0);
  };
  size(dq, q > 0);
  size(dq1, q > 0 && adaptive);
  size(acc_b, q > 0 && adaptive);
  size(acc_e, q > 0 && adaptive && error_in_norm);
}

template <class Scalar>
std::size_t SolverWorkspace<Scalar>::bytes() const {
  const std::size_t scalars = c.size() + a.size() + b.size() + e.size() + dense.size() + k.size() +
                              stage.size() + y.size() + y_new.size() + f_end.size() + atol.size() +
                              weights.size() + dq.size() + dq1.size() + acc_b.size() + acc_e.size();
  return scalars * sizeof(Scalar) + w.size() * sizeof(double);
}

template class SolverWorkspace<float>;
template class SolverWorkspace<double>;

}  // namespace neuralode::ode
