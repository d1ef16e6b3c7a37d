// Systems with closed-form solutions shared by the ODE tests.
#pragma once

#include <Eigen/Dense>
#include <unsupported/Eigen/MatrixFunctions>

#include "neuralode/ode/system.hpp"

namespace neuralode::testing {

// y' = A y on a 10-dimensional state with mixed decaying and oscillating modes; y(t) = exp(A t) y0.
// A = Q B Q^T with a fixed orthogonal Q and block-diagonal B (rotations with decay, pure decays),
// so the spectrum is known (all |lambda| <= ~1, so fixed steps reach the asymptotic regime of
// every method at errors well above rounding): eigenvalues -0.1 +- 1i, -0.3 +- 1i, -0.05 +- 0.5i,
// -0.5, -1, -0.2, -0.8.
class LinearSystem final : public ode::System<double> {
 public:
  LinearSystem() {
    Eigen::MatrixXd B = Eigen::MatrixXd::Zero(10, 10);
    auto rot = [&](int i, double decay, double freq) {
      B(i, i) = B(i + 1, i + 1) = -decay;
      B(i, i + 1) = freq;
      B(i + 1, i) = -freq;
    };
    rot(0, 0.1, 1.0);
    rot(2, 0.3, 1.0);
    rot(4, 0.05, 0.5);
    B(6, 6) = -0.5;
    B(7, 7) = -1.0;
    B(8, 8) = -0.2;
    B(9, 9) = -0.8;
    // A fixed orthogonal Q from the QR factorisation of a deterministic matrix.
    Eigen::MatrixXd M(10, 10);
    for (int i = 0; i < 10; ++i)
      for (int j = 0; j < 10; ++j)
        M(i, j) = std::sin(1.0 + 3.0 * i + 7.0 * j) + (i == j ? 2.0 : 0.0);
    Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(M).householderQ();
    A = Q * B * Q.transpose();
    y0.resize(10);
    for (int i = 0; i < 10; ++i) y0(i) = 1.0 + 0.1 * i;
  }
  void rhs(double, ConstMatrixView<double> y, MatrixView<double> dy) override {
    dy.noalias() = sign * (y * A.transpose());
  }
  // y(t) from y(t0) = y0.
  Eigen::VectorXd exact(double t, double t0 = 0.0) const {
    return (sign * A * (t - t0)).exp() * y0;
  }

  // -1 gives y' = -A y: solved backwards in time it behaves like y' = A y forwards (decaying), so
  // backward solves can be held to the same accuracy as forward ones.
  double sign = 1.0;

  Eigen::MatrixXd A;
  Eigen::VectorXd y0;
};

// The same system for float solves.
class LinearSystemF final : public ode::System<float> {
 public:
  LinearSystemF() : A(LinearSystem().A.cast<float>()) {}
  void rhs(float, ConstMatrixView<float> y, MatrixView<float> dy) override {
    dy.noalias() = y * A.transpose();
  }
  Eigen::MatrixXf A;
};

}  // namespace neuralode::testing
