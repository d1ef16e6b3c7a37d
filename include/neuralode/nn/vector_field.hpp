// VectorField: a neural network f_theta(x, t) that an ODE solver integrates. It is an ode::System
// (so odeint can solve it directly), owns its flat parameter vector, and gives the derivative
// products that the gradient methods (grad) and continuous normalizing flows need.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "neuralode/nn/layer.hpp"
#include "neuralode/ode/system.hpp"

namespace neuralode::nn {

template <class Scalar>
class VectorField : public ode::System<Scalar> {
 public:
  // dim(): per-sample state size (input and output sizes are equal).
  virtual Index dim() const = 0;
  virtual Index num_params() const = 0;
  // The flat parameter vector and its named views. Gradients use the same layout.
  virtual std::span<Scalar> params() = 0;
  virtual std::span<const Scalar> params() const = 0;
  virtual std::vector<ParamView> param_views() const = 0;

  // f = f_theta(t, x) (the System interface).
  void rhs(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f) override { forward(t, x, f); }
  void rhs_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                   MatrixView<Scalar> f) override {
    forward_per_row(t, x, f);
  }
  virtual void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> f) = 0;

  // ---- Per-row time (t.size() == x.rows(): row r at t[r]) ----
  // Each result row equals that row evaluated alone at its t (bit for bit where the arithmetic is
  // the same). The defaults run forward / vjp on each run of consecutive rows sharing a time (vjp
  // row by row when t_bar is wanted, since each row has its own); LayerField passes the times to
  // its layers in one call.
  virtual void forward_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                               MatrixView<Scalar> f) {
    ode::System<Scalar>::rhs_per_row(t, x, f);  // the scalar-time rhs on each run
  }
  // vjp with per-row times: as vjp, but t_bar (if non-null) has x.rows() entries and row r's
  // a_r^T df/dt_r is added into t_bar[r].
  virtual void vjp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                           ConstMatrixView<Scalar> a, Scalar* f_out, MatrixView<Scalar> x_bar,
                           Scalar* theta_bar, Scalar* t_bar) {
    const Index rows = x.rows(), d = x.cols();
    Index r0 = 0;
    while (r0 < rows) {
      Index r1 = r0 + 1;
      const auto at = [&](Index r) { return t[static_cast<std::size_t>(r)]; };
      while (!t_bar && r1 < rows && at(r1) == at(r0)) ++r1;
      const Index m = r1 - r0;
      vjp(at(r0), ConstMatrixView<Scalar>(x.data() + r0 * d, m, d),
          ConstMatrixView<Scalar>(a.data() + r0 * d, m, d), f_out ? f_out + r0 * d : nullptr,
          MatrixView<Scalar>(x_bar.data() + r0 * d, m, d), theta_bar, t_bar ? t_bar + r0 : nullptr);
      r0 = r1;
    }
  }

  // Vector-Jacobian products at (t, x) for cotangent a (batch x dim); self-contained (runs its own
  // forward). Writes f(t, x) into f_out if non-null, a^T df/dx into x_bar (overwrites),
  // adds a^T df/dtheta into theta_bar[0..num_params) if non-null, adds a^T df/dt into *t_bar if
  // non-null.
  virtual void vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a, Scalar* f_out,
                   MatrixView<Scalar> x_bar, Scalar* theta_bar, Scalar* t_bar) = 0;

  // Recorded evaluations (ode::System::record_size / rhs_recorded): rhs_recorded computes f and
  // keeps the activations in the record; vjp_recorded is vjp at that (t, x) without re-running
  // the forward. The default vjp_recorded is vjp (for fields whose record_size is -1; a
  // LayerField always records: its record is the root layer's context).
  virtual void vjp_recorded(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> a,
                            const Scalar* /*record*/, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                            Scalar* t_bar) {
    vjp(t, x, a, nullptr, x_bar, theta_bar, t_bar);
  }

  // Jacobian-vector product: f = f(t, x), jv = (df/dx) v. A field without tangent passes (a
  // LayerField whose layers are not all TangentLayers) throws InvalidArgument.
  virtual void jvp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
                   MatrixView<Scalar> f, MatrixView<Scalar> jv) = 0;

  // Reverse pass of the tangent pass at (t, x, v): given cotangents f_bar and jv_bar of (f, jv),
  // writes x_bar and v_bar, adds into theta_bar and *t_bar (each if non-null).
  virtual void jvp_vjp(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> v,
                       ConstMatrixView<Scalar> f_bar, ConstMatrixView<Scalar> jv_bar,
                       MatrixView<Scalar> x_bar, MatrixView<Scalar> v_bar, Scalar* theta_bar,
                       Scalar* t_bar) = 0;

  // The tangent passes with per-row times (t.size() == x.rows()), as forward_per_row and
  // vjp_per_row are to forward and vjp: each row as if evaluated alone at its t; t_bar (if
  // non-null) has x.rows() entries. The defaults call jvp / jvp_vjp on each run of rows sharing a
  // time (row by row when t_bar is wanted); LayerField passes the times to its layers in one call.
  virtual void jvp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                           ConstMatrixView<Scalar> v, MatrixView<Scalar> f, MatrixView<Scalar> jv) {
    for_each_time_run(t, x.rows(), false, [&](Index r0, Index m) {
      jvp(t[static_cast<std::size_t>(r0)], rows(x, r0, m), rows(v, r0, m), rows(f, r0, m),
          rows(jv, r0, m));
    });
  }
  virtual void jvp_vjp_per_row(std::span<const Scalar> t, ConstMatrixView<Scalar> x,
                               ConstMatrixView<Scalar> v, ConstMatrixView<Scalar> f_bar,
                               ConstMatrixView<Scalar> jv_bar, MatrixView<Scalar> x_bar,
                               MatrixView<Scalar> v_bar, Scalar* theta_bar, Scalar* t_bar) {
    for_each_time_run(t, x.rows(), t_bar != nullptr, [&](Index r0, Index m) {
      jvp_vjp(t[static_cast<std::size_t>(r0)], rows(x, r0, m), rows(v, r0, m), rows(f_bar, r0, m),
              rows(jv_bar, r0, m), rows(x_bar, r0, m), rows(v_bar, r0, m), theta_bar,
              t_bar ? t_bar + r0 : nullptr);
    });
  }

 protected:
  // Rows [r0, r0 + m) of a batch.
  static ConstMatrixView<Scalar> rows(ConstMatrixView<Scalar> a, Index r0, Index m) {
    return ConstMatrixView<Scalar>(a.data() + r0 * a.cols(), m, a.cols());
  }
  static MatrixView<Scalar> rows(MatrixView<Scalar> a, Index r0, Index m) {
    return MatrixView<Scalar>(a.data() + r0 * a.cols(), m, a.cols());
  }
  // Calls body(r0, m) for each run [r0, r0 + m) of consecutive rows at one time (single rows when
  // `row_by_row`: each row then has its own t_bar entry).
  template <class Body>
  static void for_each_time_run(std::span<const Scalar> t, Index batch, bool row_by_row,
                                Body&& body) {
    Index r0 = 0;
    while (r0 < batch) {
      Index r1 = r0 + 1;
      while (!row_by_row && r1 < batch &&
             t[static_cast<std::size_t>(r1)] == t[static_cast<std::size_t>(r0)])
        ++r1;
      body(r0, r1 - r0);
      r0 = r1;
    }
  }
};

}  // namespace neuralode::nn
