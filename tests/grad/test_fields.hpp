// Small vector fields written out by hand for the gradient tests, independent of the nn layers.
#pragma once

// GCC 12 reports false "used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's vectorised reductions inline them; nothing is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "neuralode/nn/vector_field.hpp"

namespace neuralode::testing {

// f(t, x) = A x per sample, with A (dim x dim, row-major) as the parameters. Its flow is
// exp(A t), so dL/dy0 and dL/dA of a terminal loss have closed forms.
template <class Scalar>
class LinearField final : public nn::VectorField<Scalar> {
 public:
  explicit LinearField(Index dim)
      : dim_(dim), theta_(static_cast<std::size_t>(dim * dim), Scalar(0)) {}
  Index dim() const override { return dim_; }
  Index num_params() const override { return dim_ * dim_; }
  std::span<Scalar> params() override { return theta_; }
  std::span<const Scalar> params() const override { return theta_; }
  std::vector<nn::ParamView> param_views() const override { return {{"A", {dim_, dim_}, 0}}; }
  Eigen::Map<const Matrix<Scalar>> A() const { return {theta_.data(), dim_, dim_}; }

  void forward(Scalar, ConstMatrixView<Scalar> x, MatrixView<Scalar> f) override {
    f.noalias() = x * A().transpose();
  }
  void vjp(Scalar, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a, Scalar* f_out,
           MatrixView<Scalar> x_bar, Scalar* theta_bar, Scalar*) override {
    if (f_out) MatrixView<Scalar>(f_out, x.rows(), dim_).noalias() = x * A().transpose();
    x_bar.noalias() = a * A();
    if (theta_bar) MatrixView<Scalar>(theta_bar, dim_, dim_).noalias() += a.transpose() * x;
  }
  void jvp(Scalar, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v, MatrixView<Scalar> f,
           MatrixView<Scalar> jv) override {
    f.noalias() = x * A().transpose();
    jv.noalias() = v * A().transpose();
  }
  void jvp_vjp(Scalar, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
               ConstMatrixView<Scalar> f_bar, ConstMatrixView<Scalar> jv_bar,
               MatrixView<Scalar> x_bar, MatrixView<Scalar> v_bar, Scalar* theta_bar,
               Scalar*) override {
    x_bar.noalias() = f_bar * A();
    v_bar.noalias() = jv_bar * A();
    if (theta_bar)
      MatrixView<Scalar>(theta_bar, dim_, dim_).noalias() +=
          f_bar.transpose() * x + jv_bar.transpose() * v;
  }

 private:
  Index dim_;
  std::vector<Scalar> theta_;
};

// f(t, x) = W2 tanh(W1 x + b1 + t c) + b2: a small time-aware MLP, written out with Eigen so the
// gradient methods can be tested on a nonlinear, time-dependent field without the nn layers.
template <class Scalar>
class TanhMlpField final : public nn::VectorField<Scalar> {
 public:
  TanhMlpField(Index dim, Index hidden, unsigned seed = 1) : d_(dim), h_(hidden) {
    theta_.resize(static_cast<std::size_t>(num_params()));
    // Deterministic, moderate weights: sin of a scrambled index, scaled like PyTorch's default
    // init.
    for (std::size_t i = 0; i < theta_.size(); ++i)
      theta_[i] = static_cast<Scalar>(0.8 * std::sin(1.3 + 2.7 * static_cast<double>(i) + seed));
  }
  Index dim() const override { return d_; }
  Index num_params() const override { return h_ * d_ + h_ + h_ + d_ * h_ + d_; }
  std::span<Scalar> params() override { return theta_; }
  std::span<const Scalar> params() const override { return theta_; }
  std::vector<nn::ParamView> param_views() const override {
    return {{"W1", {h_, d_}, 0},
            {"b1", {h_}, h_ * d_},
            {"c", {h_}, h_ * d_ + h_},
            {"W2", {d_, h_}, h_ * d_ + 2 * h_},
            {"b2", {d_}, 2 * h_ * d_ + 2 * h_}};
  }

  void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f) override {
    hidden(t, x);
    f.noalias() = z_.array().tanh().matrix() * W2().transpose();
    f.rowwise() += b2().transpose();
  }
  void vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a, Scalar* f_out,
           MatrixView<Scalar> x_bar, Scalar* theta_bar, Scalar* t_bar) override {
    hidden(t, x);
    const Matrix<Scalar> th = z_.array().tanh().matrix();
    if (f_out) {
      MatrixView<Scalar> f(f_out, x.rows(), d_);
      f.noalias() = th * W2().transpose();
      f.rowwise() += b2().transpose();
    }
    const Matrix<Scalar> zbar = ((a * W2()).array() * (1 - th.array().square())).matrix();
    x_bar.noalias() = zbar * W1();
    if (theta_bar) {
      const auto v = param_views();
      MatrixView<Scalar>(theta_bar + v[0].offset, h_, d_).noalias() += zbar.transpose() * x;
      Eigen::Map<Vector<Scalar>>(theta_bar + v[1].offset, h_) += zbar.colwise().sum().transpose();
      Eigen::Map<Vector<Scalar>>(theta_bar + v[2].offset, h_) +=
          t * zbar.colwise().sum().transpose();
      MatrixView<Scalar>(theta_bar + v[3].offset, d_, h_).noalias() += a.transpose() * th;
      Eigen::Map<Vector<Scalar>>(theta_bar + v[4].offset, d_) += a.colwise().sum().transpose();
    }
    if (t_bar) *t_bar += (zbar * c()).sum();
  }
  void jvp(Scalar, ConstMatrixView<Scalar>, ConstMatrixView<Scalar>, MatrixView<Scalar>,
           MatrixView<Scalar>) override {
    throw std::logic_error("TanhMlpField::jvp is not needed by the gradient tests");
  }
  void jvp_vjp(Scalar, ConstMatrixView<Scalar>, ConstMatrixView<Scalar>, ConstMatrixView<Scalar>,
               ConstMatrixView<Scalar>, MatrixView<Scalar>, MatrixView<Scalar>, Scalar*,
               Scalar*) override {
    throw std::logic_error("TanhMlpField::jvp_vjp is not needed by the gradient tests");
  }

 private:
  Eigen::Map<const Matrix<Scalar>> W1() const { return {theta_.data(), h_, d_}; }
  Eigen::Map<const Vector<Scalar>> b1() const { return {theta_.data() + h_ * d_, h_}; }
  Eigen::Map<const Vector<Scalar>> c() const { return {theta_.data() + h_ * d_ + h_, h_}; }
  Eigen::Map<const Matrix<Scalar>> W2() const { return {theta_.data() + h_ * d_ + 2 * h_, d_, h_}; }
  Eigen::Map<const Vector<Scalar>> b2() const { return {theta_.data() + 2 * h_ * d_ + 2 * h_, d_}; }
  void hidden(Scalar t, ConstMatrixView<Scalar> x) {
    z_.noalias() = x * W1().transpose();
    z_.rowwise() += (b1() + t * c()).transpose();
  }

  Index d_, h_;
  std::vector<Scalar> theta_;
  Matrix<Scalar> z_;
};

}  // namespace neuralode::testing
