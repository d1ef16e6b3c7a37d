// StepObserver: how code outside the solver sees each accepted step. Backpropagation through the
// solver (grad::Direct) records what it needs from here and reverses each step with the same
// tableau; the solver never knows it is being differentiated.
#pragma once

#include "neuralode/ode/butcher_tableau.hpp"
#include "neuralode/types.hpp"

namespace neuralode::ode {

// Where the record of a step's first stage evaluation f(t, y0) is, for observers that supply
// stage records (StepObserver::stage_record): in this step's slot 0; in the previous step's last
// slot (an FSAL method carries that evaluation over); or nowhere (it came from an evaluation
// that was not recorded, such as the end-point derivative of Hermite output).
enum class FirstStageRecord { own, previous_last, none };

// One accepted step from t to t + h. Pointers are valid only during the callback; each array is
// batch*dim wide, row-major.
template <class Scalar>
struct AcceptedStep {
  const ButcherTableau* tableau = nullptr;
  Index index = 0;  // 0, 1, ... in order of acceptance
  Scalar t = 0;
  Scalar h = 0;  // signed
  Index batch = 0, dim = 0;
  const Scalar* y0 = nullptr;            // state at t
  const Scalar* y1 = nullptr;            // state at t + h
  const Scalar* stage_inputs = nullptr;  // s rows: Y_i, the state k_i was evaluated at (Y_1 = y0)
  const Scalar* stage_derivs = nullptr;  // s rows: k_i = f(t + c_i h, Y_i)
  // f(t + h, y1) when the solver evaluated it for Hermite output of a non-FSAL method; else null.
  const Scalar* f_end = nullptr;
  FirstStageRecord first_stage_record = FirstStageRecord::none;
};

template <class Scalar>
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // Called once per accepted step, in order.
  virtual void on_step(const AcceptedStep<Scalar>& step) = 0;
  // Called after on_step for each output time that falls in that step (theta in [0, 1] is the
  // fraction of the step; the output is y0 + h (sum_i w_i k_i + w_s f_end) with the tableau's
  // dense_weights(theta)). Output 0 (the initial time) is reported with step index -1.
  virtual void on_output(Index output_index, Index step_index, Scalar theta) {}
  // Storage for the record of stage `stage`'s evaluation (0-based) in the step being attempted,
  // or null (the default) for none. When non-null and the system records (System::record_size
  // >= 0, no quadrature), the solver evaluates that stage with rhs_recorded into it. A rejected
  // attempt's records are overwritten by the next attempt; slot 0 survives rejections (f(t, y0)
  // is not re-evaluated).
  virtual Scalar* stage_record(Index /*stage*/) { return nullptr; }
};

}  // namespace neuralode::ode
