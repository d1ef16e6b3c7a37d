// StepSizeController: how an adaptive solve picks its next step from the error estimate of the
// step just attempted (SolveOptions::controller: I, PI or PID). The loop (odeint.cpp) asks it for a
// factor after every attempt and multiplies |h| by it; the controller never sees the state.
//
// All three controllers share the rules of Hairer & Wanner's DOPRI5 code around the formula:
//  - the factor after an accepted step is clamped to [dfactor, ifactor] and, right after a
//    rejection, to at most 1 (no growth while the step is being found);
//  - a rejected step shrinks by max(dfactor, safety err^(-1/k)), k = q + 1, whatever the controller
//    (the history of accepted errors says nothing about how far to retreat from this one);
//  - a zero error grows by ifactor; the history keeps max(err, 1e-4) (Hairer's facold), starting
//    at 1e-4.
// Only the accepted-step formula differs:
//   I:   safety err_n^(-1/k)
//   PI:  safety err_n^(-(1/k - 0.75 beta)) err_{n-1}^beta                     (Gustafsson 1991)
//   PID: safety err_n^(-(p + i + d)/k) err_{n-1}^((p + 2d)/k) err_{n-2}^(-d/k) (Söderlind 2003)
// with err_{n-1}, err_{n-2} the errors of the previous accepted steps. The PID is diffrax's
// PIDController (diffrax/_step_size_controller/adaptive.py, adapt_step_size: coeff1 = (icoeff +
// pcoeff + dcoeff)/error_order on 1/err_n, coeff2 = -(pcoeff + 2 dcoeff)/error_order on
// 1/err_{n-1}, coeff3 = dcoeff/error_order on 1/err_{n-2}; only accepted errors enter the
// history). It differs from diffrax where our shared rules do: diffrax starts the history at 1
// (no effect until two steps are accepted) where we start at Hairer's 1e-4, clamps an accepted
// step's factor to [1, factormax] (never shrinking an accepted step) where we allow dfactor, and
// applies the full PID formula to a rejected step where we use the I step. These choices make
// I and PI members of the PID family exactly: PID (0, 1, 0) is I bit for bit, and
// PID (k beta, 1 - 1.75 k beta, 0) is PI up to the rounding of its exponents (tests/ode).
//
// Everything runs in log space: log err is computed once per step (step_factor_math.hpp's inline
// log and exp; libm's pow was ~9 % of a small adaptive step) and the factor is one exp.
#pragma once

#include <algorithm>
#include <cmath>

#include "neuralode/ode/solve_options.hpp"
#include "ode/step_factor_math.hpp"

namespace neuralode::ode::detail {

template <class Scalar>
class StepSizeController {
 public:
  // error_order: q, the order of the error estimate's lower method (the estimate is O(h^(q+1))).
  StepSizeController(const SolveOptions& options, int error_order)
      : kind_(options.controller),
        safety_(static_cast<Scalar>(options.safety)),
        ifactor_(static_cast<Scalar>(options.ifactor)),
        dfactor_(static_cast<Scalar>(options.dfactor)),
        k_(error_order + 1) {
    // The exponents are formed in Scalar exactly as the I and PI code always formed them, so
    // that a float solve's factors are unchanged by the move into this class.
    const Scalar beta = kind_ == Controller::pi ? static_cast<Scalar>(options.pi_beta) : Scalar(0);
    // Hairer's DOPRI5: expo1 = 1/k - 0.75 beta, rounded as a product and then a difference (not
    // one fused multiply-add, which -ffp-contract=fast, GCC's default, may form): that is how
    // every PI solve before this class computed it, and the two differ by an ulp for bosh3
    // (k = 3: 1/3 - 0.03), which changes its step sequence in the last bits. The volatile keeps
    // the product a rounded value of its own; once per solve, so it costs nothing measurable.
    const volatile Scalar beta_part = Scalar(0.75) * beta;
    expo_ = Scalar(1) / Scalar(k_) - beta_part;
    beta_ = beta;
    if (kind_ == Controller::pid) {
      const auto p = static_cast<Scalar>(options.pcoeff), i = static_cast<Scalar>(options.icoeff),
                 d = static_cast<Scalar>(options.dcoeff);
      c_now_ = static_cast<double>((p + i + d) / Scalar(k_));
      c_prev_ = static_cast<double>((p + Scalar(2) * d) / Scalar(k_));
      c_prev2_ = static_cast<double>(d / Scalar(k_));
    }
  }

  // The factor on |h| after an accepted step whose squared error norm is err_sq (in [0, 1], or
  // above 1 for a step pinned at min_step); updates the history. after_rejection: the previous
  // attempt was rejected.
  Scalar accepted(Scalar err_sq, bool after_rejection) {
    // One log serves both uses: log max(err, 1e-4) is log err unless err is below 1e-4.
    const double log_err = err_sq == Scalar(0)
                               ? log_1e4()
                               : 0.5 * step_kernels::controller_log(static_cast<double>(err_sq));
    // I and PI keep the old loop's expression as written (so the compiler contracts it as
    // before: the I and PI solves are unchanged to the bit); PID has its own. One expression for
    // all three with explicit fused multiply-adds was measured 5-10 % slower per small adaptive
    // step: a third operation on the chain from one step's error to the next step's size.
    Scalar factor;
    if (err_sq == Scalar(0)) {
      factor = ifactor_;
    } else if (kind_ != Controller::pid) {
      factor =
          safety_ *
          static_cast<Scalar>(step_kernels::controller_exp(
              static_cast<double>(beta_) * log_err_prev_ - static_cast<double>(expo_) * log_err));
    } else {
      factor =
          safety_ * static_cast<Scalar>(step_kernels::controller_exp(
                        c_prev_ * log_err_prev_ - c_prev2_ * log_err_prev2_ - c_now_ * log_err));
    }
    factor = std::clamp(factor, dfactor_, ifactor_);
    if (after_rejection) factor = std::min(factor, Scalar(1));  // Hairer: no growth after one
    log_err_prev2_ = log_err_prev_;
    log_err_prev_ = err_sq >= Scalar(1e-8) ? log_err : log_1e4();
    return factor;
  }

  // The factor on |h| after a rejected step (err_sq > 1, finite). The history is unchanged.
  Scalar rejected(Scalar err_sq) const {
    return std::max(dfactor_, safety_ * std::pow(err_sq, Scalar(-0.5) / Scalar(k_)));
  }

  // The factor after an attempt whose result was not finite: the largest shrink.
  Scalar failed() const { return dfactor_; }

 private:
  // log 1e-4, Hairer's facold: a call the compiler folds into a constant where it is used (a
  // static member initialised at run time was a load from memory on the step-to-step chain).
  static double log_1e4() { return std::log(1e-4); }

  Controller kind_;
  Scalar safety_, ifactor_, dfactor_;
  int k_;
  Scalar expo_ = 0, beta_ = 0;                                   // I and PI
  double c_now_ = 0, c_prev_ = 0, c_prev2_ = 0;                  // PID, in log space
  double log_err_prev_ = log_1e4(), log_err_prev2_ = log_1e4();  // log max(err, 1e-4) history
};

}  // namespace neuralode::ode::detail
