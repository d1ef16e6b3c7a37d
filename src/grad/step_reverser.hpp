// StepReverser: the reverse (vector-Jacobian) pass of one explicit Runge-Kutta step, shared by the
// discrete gradient methods (direct, binomial). Given the step's stage inputs and the adjoint of
// its end state and of the outputs interpolated inside it, it returns the adjoint of its start
// state and accumulates the parameter gradient. Step sizes are constants (as torchdiffeq and
// diffrax treat accepted steps).
//
// Forward step (stage inputs Y_i, Y_1 = y0):
//   k_i = f(t + c_i h, Y_i),  Y_i = y0 + h sum_{j<i} a_ij k_j,  y1 = y0 + h sum_i b_i k_i,
//   output(theta) = y0 + h (sum_i w_i(theta) k_i + w_s(theta) f(t + h, y1)).
// Reverse, with adjoints ybar1 and obar_o:
//   ybar1 += J(t + h, y1)^T fbar_end,  fbar_end = h sum_o w_s(theta_o) obar_o
//   kbar_i = h b_i ybar1 + h sum_o w_i(theta_o) obar_o
//   for i = s..1: Ybar_i = J_i^T kbar_i, thetabar += (df/dtheta)_i^T kbar_i,
//                 ybar0 += Ybar_i, kbar_j += h a_ij Ybar_i (j < i)
//   ybar0 += ybar1 + sum_o obar_o
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "neuralode/nn/vector_field.hpp"
#include "neuralode/ode/butcher_tableau.hpp"
#include "ode/dense_output.hpp"

namespace neuralode::grad::detail {

// An output inside a step: its fraction theta of the step and the adjoint dL/d(output).
template <class Scalar>
struct OutputAdjoint {
  Scalar theta;
  const Scalar* adjoint;
};

// Where an output came from: its step and its fraction theta of that step (StepObserver's
// on_output), as recorded by the discrete methods.
template <class Scalar>
struct OutputPlace {
  Index step = -1;
  Scalar theta = 0;
};

// The outputs that fall in `step`, consumed from `next_output` downwards (outputs are in step
// order; output 0 is the initial state and never taken): an output at the step's end (theta = 1)
// is a copy of y1, so its adjoint goes into ybar; the others are collected in `inside`.
template <class Scalar>
void gather_step_outputs(const std::vector<OutputPlace<Scalar>>& places, Index step,
                         const Scalar* dl_dys, Index n, Index& next_output, Scalar* ybar,
                         std::vector<OutputAdjoint<Scalar>>& inside) {
  inside.clear();
  for (; next_output >= 1 && places[static_cast<std::size_t>(next_output)].step == step;
       --next_output) {
    const Scalar theta = places[static_cast<std::size_t>(next_output)].theta;
    const Scalar* adj = dl_dys + next_output * n;
    if (theta == Scalar(1)) {
      for (Index m = 0; m < n; ++m) ybar[m] += adj[m];
    } else {
      inside.push_back({theta, adj});
    }
  }
}

template <class Scalar>
class StepReverser {
 public:
  void resize(const ode::ButcherTableau& tab, Index batch, Index dim) {
    tab_ = &tab;
    batch_ = batch;
    dim_ = dim;
    const Index s = tab.stages, n = batch * dim;
    kbar_.resize(s, n);
    ybar_stage_.resize(n);
    w_.assign(static_cast<std::size_t>(s + 1), 0.0);
    live_.assign(static_cast<std::size_t>(s), 0);
  }

  // stage_inputs: s x n (row 0 = y0). y1: the end state (read only when an output needs
  // f(t + h, y1)). ybar: in, the adjoint of y1; out, the adjoint of y0. theta_bar: accumulated.
  // Outputs with theta == 1 are copies of y1 and belong in ybar, not in `outputs`.
  // records: null, or s pointers to the stages' recorded evaluations (VectorField::vjp_recorded;
  // a null entry re-runs that stage's forward).
  void reverse(nn::VectorField<Scalar>& f, Scalar t, Scalar h, const Scalar* stage_inputs,
               const Scalar* y1, const std::vector<OutputAdjoint<Scalar>>& outputs, Scalar* ybar,
               Scalar* theta_bar, std::int64_t& num_vjp, const Scalar* const* records = nullptr) {
    const ode::ButcherTableau& tab = *tab_;
    const Index s = tab.stages, n = batch_ * dim_;
    auto view = [&](const Scalar* p) { return ConstMatrixView<Scalar>(p, batch_, dim_); };
    Scalar* yb_stage = ybar_stage_.data();

    // The end-point derivative used by Hermite output of non-FSAL methods.
    bool need_end = false;
    for (const auto& o : outputs) {
      tab.dense_weights(static_cast<double>(o.theta), w_.data());
      need_end = need_end || ode::detail::dense_output_needs_end(w_.data(), s);
    }
    if (need_end) {
      Scalar* fbar_end = kbar_.data();  // row 0 as scratch before the stage adjoints are formed
      std::fill(fbar_end, fbar_end + n, Scalar(0));
      for (const auto& o : outputs) {
        tab.dense_weights(static_cast<double>(o.theta), w_.data());
        const Scalar hw = h * static_cast<Scalar>(w_[static_cast<std::size_t>(s)]);
        for (Index m = 0; m < n; ++m) fbar_end[m] += hw * o.adjoint[m];
      }
      f.vjp(t + h, view(y1), view(fbar_end), nullptr, MatrixView<Scalar>(yb_stage, batch_, dim_),
            theta_bar, nullptr);
      ++num_vjp;
      for (Index m = 0; m < n; ++m) ybar[m] += yb_stage[m];
    }

    // Stage adjoints from y1 and the outputs.
    for (Index i = 0; i < s; ++i) {
      Scalar* kb = kbar_.data() + i * n;
      const Scalar hb = h * static_cast<Scalar>(tab.b[static_cast<std::size_t>(i)]);
      for (Index m = 0; m < n; ++m) kb[m] = hb * ybar[m];
      live_[static_cast<std::size_t>(i)] = hb != Scalar(0);
    }
    for (const auto& o : outputs) {
      tab.dense_weights(static_cast<double>(o.theta), w_.data());
      ode::detail::dense_output_transpose(
          w_.data(), s, h, o.adjoint, [&](Index i) { return kbar_.data() + i * n; },
          [&](Index i) { live_[static_cast<std::size_t>(i)] = 1; }, n);
      for (Index m = 0; m < n; ++m) ybar[m] += o.adjoint[m];
    }

    // Stages in reverse order; a stage whose adjoint is identically zero is skipped (dopri5's
    // last stage when no output falls in the step: b_7 = 0 and no later stage reads it).
    for (Index i = s - 1; i >= 0; --i) {
      if (!live_[static_cast<std::size_t>(i)]) continue;
      const Scalar ti = t + static_cast<Scalar>(tab.c[static_cast<std::size_t>(i)]) * h;
      const Scalar* record = records ? records[i] : nullptr;
      if (record)
        f.vjp_recorded(ti, view(stage_inputs + i * n), view(kbar_.data() + i * n), record,
                       MatrixView<Scalar>(yb_stage, batch_, dim_), theta_bar, nullptr);
      else
        f.vjp(ti, view(stage_inputs + i * n), view(kbar_.data() + i * n), nullptr,
              MatrixView<Scalar>(yb_stage, batch_, dim_), theta_bar, nullptr);
      ++num_vjp;
      for (Index m = 0; m < n; ++m) ybar[m] += yb_stage[m];
      for (Index j = 0; j < i; ++j) {
        const Scalar ha =
            h * static_cast<Scalar>(tab.a_at(static_cast<int>(i), static_cast<int>(j)));
        if (ha == Scalar(0)) continue;
        Scalar* kb = kbar_.data() + j * n;
        for (Index m = 0; m < n; ++m) kb[m] += ha * yb_stage[m];
        live_[static_cast<std::size_t>(j)] = 1;
      }
    }
  }

  std::size_t bytes() const {
    return static_cast<std::size_t>(kbar_.size() + ybar_stage_.size()) * sizeof(Scalar);
  }

 private:
  const ode::ButcherTableau* tab_ = nullptr;
  Index batch_ = 0, dim_ = 0;
  Matrix<Scalar> kbar_;
  Vector<Scalar> ybar_stage_;
  std::vector<double> w_;
  std::vector<char> live_;
};

}  // namespace neuralode::grad::detail
