// GradientMethod: the checks, timing and time gradients shared by every method.
#include "neuralode/grad/gradient_method.hpp"

#include <chrono>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::grad {

using neuralode::detail::cat;

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

template <class Scalar>
const ode::Solution<Scalar>& GradientMethod<Scalar>::forward(nn::VectorField<Scalar>& field,
                                                             ConstMatrixView<Scalar> y0,
                                                             std::span<const Scalar> times,
                                                             const ode::SolveOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (y0.cols() != field.dim())
    throw InvalidArgument(cat("GradientMethod::forward: y0 has dim ", y0.cols(),
                              " but the field has dim ", field.dim()));
  have_forward_ = false;
  field_ = &field;
  times_.assign(times.begin(), times.end());
  solve_options_ = options;
  stats_ = GradStats{};
  stats_.method = options_.method;
  do_forward(y0);
  stats_.forward = solution_.stats;
  stats_.forward_seconds = seconds_since(start);
  have_forward_ = true;
  return solution_;
}

template <class Scalar>
void GradientMethod<Scalar>::backward(ConstMatrixView<Scalar> dl_dys, Gradients<Scalar>& out) {
  const auto start = std::chrono::steady_clock::now();
  if (!have_forward_) throw InvalidArgument("GradientMethod::backward: call forward() first");
  const Index n = solution_.batch * solution_.dim;
  if (dl_dys.rows() != solution_.num_times() || dl_dys.cols() != n)
    throw InvalidArgument(
        cat("GradientMethod::backward: dL/dys is ", dl_dys.rows(), " x ", dl_dys.cols(),
            "; expected num_times x batch*dim = ", solution_.num_times(), " x ", n));
  out.y0.resize(solution_.batch, solution_.dim);
  out.params.setZero(field_->num_params());
  stats_.nfe_backward = stats_.num_vjp = stats_.nfe_recompute = 0;
  stats_.backward_accepted = stats_.backward_rejected = 0;
  do_backward(dl_dys, out);

  // Time gradients from the continuous identities (valid for every method up to its accuracy):
  // y(t_i) depends on t_i through dy/dt = f, so dL/dt_i = <dL/dy_i, f(t_i, y_i)> for i >= 1. Moving
  // t_0 with y(t_0) = y0 fixed moves every later output by -Phi(t_i, t_0) f(t_0, y0), so
  // dL/dt_0 = -<dL/dy0 - dL/dy_0, f(t_0, y_0)>: the adjoint at t_0 without the loss's direct
  // dependence on the output at t_0 (which does not move).
  out.times.clear();
  if (options_.time_gradients) {
    const Index T = solution_.num_times();
    out.times.assign(static_cast<std::size_t>(T), Scalar(0));
    Matrix<Scalar> f(solution_.batch, solution_.dim);
    MatrixView<Scalar> fv(f.data(), f.rows(), f.cols());
    for (Index i = 0; i < T; ++i) {
      field_->forward(times_[i], solution_.state(i), fv);
      ++stats_.nfe_backward;
      if (i == 0) {
        const Eigen::Map<const Matrix<Scalar>> direct(dl_dys.data(), solution_.batch,
                                                      solution_.dim);
        out.times[0] = -((out.y0 - direct).array() * f.array()).sum();
      } else {
        out.times[i] = (dl_dys.row(i).array() *
                        Eigen::Map<const Vector<Scalar>>(f.data(), n).transpose().array())
                           .sum();
      }
    }
  }
  stats_.backward_seconds = seconds_since(start);
}

template class GradientMethod<float>;
template class GradientMethod<double>;

}  // namespace neuralode::grad
