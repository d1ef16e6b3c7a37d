// ExplicitRungeKutta: the stepper of every explicit Runge-Kutta method in the registry. One
// attempted step from (t, y, h) gives its stages, its solution y_new and (adaptive methods) the
// squared norm of its error estimate; what the loop (odeint.cpp) does with them (accept, reject,
// outputs, observer) is not its business.
//
// A stepper is what the loop is templated on. Another method family (ESDIRK, Rosenbrock: issue
// 17) joins as another class offering the same members, with whatever stage structure it needs
// inside: the loop never reads a tableau. The members the loop uses:
//   order(), error_order()             p and q of the pair (q: the controller's exponent)
//   has_first_stage(), first_stage(t)  f(t, y) for the current state, computed or carried over
//   attempt(t, h, with_error)          stages and y_new; returns err^2 (0 without error; NaN
//                                      when the result is not finite)
//   commit(h)                          an attempt is accepted (the quadrature's update)
//   interpolate(t_new, h, theta, out)  the dense output of the committed step
//   describe(step)                     the step for a StepObserver
//   advance()                          y <- y_new and the next step's first stage
//   initial_step(t0, t_end, dir)       Hairer's starting step from f alone
//   fail_nonfinite, check_first_stage_finite: the failure messages that need the stages.
//
// The quadrature q (System::quadrature_size() = Q > 0) is integrated as CVODES integrates its
// quadrature variables (Serban & Hindmarsh 2005, section 2.3): with y's steps and stages, every
// stage evaluating dq_i together with k_i, but without stage rows. Its RK update
// q_new = q + h sum_i b_i dq_i is accumulated stage by stage instead:
//  - fixed steps are never rejected, so each b_i dq_i goes straight into q (buffer: dq only);
//  - adaptive steps accumulate acc_b = sum b_i dq_i and, when q is in the norm, acc_e =
//    sum e_i dq_i (e = b - bhat, the error estimate h acc_e), starting from the first stage's dq1,
//    which is kept for a retry after a rejection; q += h acc_b on acceptance. FSAL methods reuse
//    the last stage's dq as the next step's dq1 (a pointer swap), as k does.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/ode/solve_stats.hpp"
#include "neuralode/ode/solver_workspace.hpp"
#include "neuralode/ode/step_observer.hpp"
#include "neuralode/ode/system.hpp"
#include "ode/dense_output.hpp"
#include "ode/error_norm.hpp"
#include "ode/finite.hpp"
#include "ode/linear_combination.hpp"

namespace neuralode::ode::detail {
// Internal linkage: the stepper is compiled into odeint.cpp alone (the one file including this
// header), and GCC inlines an internal function called from one place (the quadrature updates,
// the starting step) where it would keep an external inline one out of line.
namespace {

// The nonzero coefficients of a step's combinations with the k rows they multiply: a's rows
// 1..s-1 (the stage inputs), b (the update; unused by FSAL methods, whose last stage is the
// update) and e = b - bhat (the error estimate). Gathered once per solve; attempt() scales them
// all by h in one pass. Scanning the tableau for zeros at every stage instead (a data-dependent
// branch per coefficient) was a fifth of a 64-component dopri5 step in perf. Explicit methods
// only: a's strictly lower triangle is what makes each stage input a combination of earlier k.
template <class Scalar>
class StepTerms {
 public:
  static constexpr Index kMaxStages = 16;

  StepTerms(const SolverWorkspace<Scalar>& ws, const Scalar* k, Index n) {
    const Index s = ws.tableau()->stages;
    if (s > kMaxStages)
      throw InvalidArgument(
          neuralode::detail::cat("odeint: a tableau has at most ", kMaxStages, " stages, not ", s));
    auto add_row = [&](Index r, const Scalar* row, Index count) {
      begin_[r] = total_;
      for (Index j = 0; j < count; ++j)
        if (row[j] != Scalar(0)) {
          rows_[total_] = k + j * n;
          unit_[total_++] = row[j];
        }
    };
    for (Index i = 1; i < s; ++i) add_row(i, ws.a.data() + i * s, i);
    add_row(s, ws.b.data(), s);
    add_row(s + 1, ws.e.data(), static_cast<Index>(ws.e.size()));
    begin_[s + 2] = total_;
    begin_[0] = 0;
    stages_ = s;
  }

  void scale(Scalar h) {
    for (int i = 0; i < total_; ++i) coef_[i] = h * unit_[i];
  }
  // Row r: a's row r in [1, s), b at r = s, e at r = s + 1.
  const Scalar* const* rows(Index r) const { return rows_ + begin_[r]; }
  const Scalar* coef(Index r) const { return coef_ + begin_[r]; }
  int count(Index r) const { return begin_[r + 1] - begin_[r]; }
  Index b_row() const { return stages_; }
  Index e_row() const { return stages_ + 1; }

 private:
  // a's strictly lower triangle, b and e of the largest tableau.
  static constexpr int kMax = kMaxStages * (kMaxStages - 1) / 2 + 2 * kMaxStages;
  const Scalar* rows_[kMax];
  Scalar unit_[kMax];
  Scalar coef_[kMax];
  int begin_[kMaxStages + 3];
  int total_ = 0;
  Index stages_ = 0;
};

// One solve's stepper. Holds references only; every buffer is in the workspace (and q, the
// caller's). The workspace must be sized for this method and shape (SolverWorkspace::resize).
template <class Scalar>
class ExplicitRungeKutta {
 public:
  ExplicitRungeKutta(System<Scalar>& f, std::span<Scalar> q, const SolveOptions& options,
                     SolverWorkspace<Scalar>& ws, SolveStats& stats, StepObserver<Scalar>* observer,
                     bool fixed)
      : f_(f),
        opt_(options),
        ws_(ws),
        stats_(stats),
        obs_(observer),
        tab_(*ws.tableau()),
        s_(tab_.stages),
        n_(ws.size()),
        fixed_(fixed),
        nq_(static_cast<Index>(q.size())),
        q_(q.data()),
        records_(observer && nq_ == 0 && f.record_size(ws.batch()) >= 0),
        terms_(ws, ws.k.data(), n_),
        norm_(options, ws, q) {
    if (nq_ > 0) {
      dq_ = ws.dq.data();
      // Fixed steps consume the first stage's dq before the next stage overwrites it: one buffer.
      dq1_ = fixed_ ? dq_ : ws.dq1.data();
      acc_b_ = fixed_ ? nullptr : ws.acc_b.data();
      acc_e_ = ws.acc_e.size() ? ws.acc_e.data() : nullptr;
    }
  }

  int order() const { return tab_.order; }
  // Error exponent 1/(q+1) for an embedded pair p(q): the estimate is O(h^(q+1)).
  int error_order() const { return std::min(tab_.order, tab_.embedded_order); }

  // The state at the current time (n = batch*dim, row-major); y0 is copied in by the loop.
  Scalar* state() { return ws_.y.data(); }

  bool has_first_stage() const { return k1_valid_; }
  // f(t, y) into k row 0 as stage 0, noting where its record went.
  void first_stage(Scalar t) {
    const bool recorded = eval(t, ws_.y.data(), ws_.k.data(), dq1_, 0);
    first_stage_record_ = recorded ? FirstStageRecord::own : FirstStageRecord::none;
    k1_valid_ = true;
  }

  // Stages 2..s and y_new; k row 0 must hold f(t, y). Returns the *square* of the error norm
  // (0 if !with_error; NaN when y_new is not finite): the controller needs only its log and
  // comparisons with 1, so the square root stays off the chain from one step to the next.
  Scalar attempt(Scalar t, Scalar h, bool with_error);

  // The attempt from (t, h) is accepted: the quadrature takes its update (q, the caller's, now
  // holds q(t + h)); y_new stays where interpolate and describe read it until advance().
  void commit(Scalar h) {
    f_end_valid_ = false;
    if (nq_ && !fixed_)
      for (Index m = 0; m < nq_; ++m) q_[m] += h * acc_b_[m];
  }

  // The committed step's dense output at fraction theta of h (from t_new - h to t_new) into out.
  // Evaluates f(t_new, y_new) once per step when the interpolant needs it (Hermite output of a
  // non-FSAL method). An output at the step's end is a copy of y_new (interpolate is not asked).
  void interpolate(Scalar t_new, Scalar h, Scalar theta, Scalar* out) {
    tab_.dense_weights(static_cast<double>(theta), ws_.w.data());
    if (dense_output_needs_end(ws_.w.data(), s_) && !f_end_valid_) {
      if (ws_.f_end.size() != n_) ws_.f_end.resize(n_);  // once per workspace: Hermite output only
      eval(t_new, ws_.y_new.data(), ws_.f_end.data());
      f_end_valid_ = true;
    }
    const Scalar* k = ws_.k.data();
    const Scalar* f_end = ws_.f_end.data();
    const Index n = n_, s = s_;
    dense_output(
        ws_.w.data(), s_, h, ws_.y.data(),
        [k, f_end, n, s](Index i) { return i < s ? k + i * n : f_end; }, out, n_);
  }
  const Scalar* state_new() const { return ws_.y_new.data(); }

  // The committed step's arrays for a StepObserver (index, t and h are the loop's).
  void describe(AcceptedStep<Scalar>& step) const {
    step.tableau = &tab_;
    step.batch = ws_.batch();
    step.dim = ws_.dim();
    step.y0 = ws_.y.data();
    step.y1 = ws_.y_new.data();
    step.stage_inputs = ws_.stage.data();
    step.stage_derivs = ws_.k.data();
    step.f_end = f_end_valid_ ? ws_.f_end.data() : nullptr;
    step.first_stage_record = first_stage_record_;
  }

  // y <- y_new, and the next step's first stage f(t_new, y_new): the last stage for FSAL
  // methods, or the value already computed for Hermite output; otherwise computed lazily by the
  // next step.
  void advance() {
    ws_.y.swap(ws_.y_new);
    if (tab_.fsal) {
      std::copy(ws_.k.data() + (s_ - 1) * n_, ws_.k.data() + s_ * n_, ws_.k.data());
      // The last stage's dq (in dq_) is the next first stage's; with fixed steps dq1_ is dq_.
      if (nq_ && !fixed_) std::swap(dq1_, dq_);
      k1_valid_ = true;
      first_stage_record_ =
          last_stage_recorded_ ? FirstStageRecord::previous_last : FirstStageRecord::none;
    } else if (f_end_valid_ && !nq_) {  // f_end comes without dq (never evaluated with one)
      std::copy(ws_.f_end.data(), ws_.f_end.data() + n_, ws_.k.data());
      k1_valid_ = true;
      first_stage_record_ = FirstStageRecord::none;
    } else {
      k1_valid_ = false;
    }
  }

  // Hairer, Norsett & Wanner I, section II.4, "Starting Step Size" (as also used by
  // torchdiffeq): an explicit Euler step of size h0 = 0.01 d0/d1 estimates the second
  // derivative, and h1 = (0.01 / max(d1, d2))^(1/(p+1)) makes the local error of order p about
  // 0.01 in the norm. Needs the first stage; uses k row 1 and y_new as scratch.
  Scalar initial_step(Scalar t0, Scalar t_end, int dir);

  // After a fixed step whose result is not finite: names the first stage whose derivative is not
  // finite although its input is (the right-hand side's doing), or else the state's blow-up.
  [[noreturn]] void fail_nonfinite(Scalar t, Scalar h);
  // After an attempt whose result is not finite: f(t, y) at the step's start (k row 0, and dq1
  // with a quadrature) is evaluated at the accepted, finite state, so if it is not finite no
  // smaller step can help: throws SolveError saying so. Failure path only; never on a valid step.
  void check_first_stage_finite(Scalar t, Scalar h) const;

  static constexpr const char* kNonFiniteHint =
      "; look for a division by zero, a log or sqrt of a negative number, an overflow in the "
      "system, or NaN/Inf parameters (a diverged training run leaves those)";

 private:
  // dy = f(t, y) and, when dq is given (a quadrature solve), dq = q'(t, y).
  // The views are built in the argument slots themselves (prvalues, no copy): named views copied
  // into the by-value arguments were written as 8-byte fields and read back as 16-byte blocks,
  // a store-forwarding stall that perf put at ~12 % of a step at dim 64.
  // A stage >= 0 names the stage this evaluation is (0 = f(t, y0)): when the observer gives it
  // a record slot (recording systems only, never with a quadrature), the system writes its
  // record there. Returns whether it did.
  bool eval(Scalar t, const Scalar* y, Scalar* dy, Scalar* dq = nullptr, Index stage = -1) {
    const Index b = ws_.batch(), d = ws_.dim();
    ++stats_.nfe;
    if (dq) {
      f_.rhs_with_quadrature(t, ConstMatrixView<Scalar>(y, b, d), MatrixView<Scalar>(dy, b, d),
                             std::span<Scalar>(dq, static_cast<std::size_t>(nq_)));
      return false;
    }
    Scalar* record = records_ && stage >= 0 ? obs_->stage_record(stage) : nullptr;
    if (record) {
      f_.rhs_recorded(t, ConstMatrixView<Scalar>(y, b, d), MatrixView<Scalar>(dy, b, d), record);
      return true;
    }
    f_.rhs(t, ConstMatrixView<Scalar>(y, b, d), MatrixView<Scalar>(dy, b, d));
    return false;
  }
  // The first stage's and stage i's contributions to the quadrature update (see the top).
  void start_quadrature(Scalar h);
  void add_stage_quadrature(Index i, Scalar h);

  System<Scalar>& f_;
  const SolveOptions& opt_;
  SolverWorkspace<Scalar>& ws_;
  SolveStats& stats_;
  StepObserver<Scalar>* obs_;
  const ButcherTableau& tab_;
  const Index s_, n_;
  const bool fixed_;
  // Quadrature: Q, the caller's q, and the workspace's buffers (null when Q = 0 or not needed).
  const Index nq_;
  Scalar* const q_;
  Scalar *dq_ = nullptr, *dq1_ = nullptr, *acc_b_ = nullptr, *acc_e_ = nullptr;
  bool k1_valid_ = false;  // k row 0 (and dq1 with a quadrature) holds f(t, y) for the current t
  bool f_end_valid_ = false;
  // Recorded evaluations (StepObserver::stage_record): whether to ask for slots at all, where
  // the current k row 0's record is, and whether the last attempt recorded its last stage.
  const bool records_;
  FirstStageRecord first_stage_record_ = FirstStageRecord::none;
  bool last_stage_recorded_ = false;
  StepTerms<Scalar> terms_;
  ErrorNorm<Scalar> norm_;
};

template <class Scalar>
Scalar ExplicitRungeKutta<Scalar>::initial_step(Scalar t0, Scalar t_end, int dir) {
  const Scalar rtol = static_cast<Scalar>(opt_.rtol);
  const Scalar* y0 = ws_.y.data();
  const Scalar* f0 = ws_.k.data();
  // The quadrature takes part as if it were part of y (q0 and its derivative dq1).
  auto q0 = [&](Index m) { return q_[m]; };
  const Scalar d0 = norm_.weighted_rms(y0, y0, y0, norm_.quadrature_sum_of_squares(q0, q0, rtol));
  const Scalar d1 = norm_.weighted_rms(
      f0, y0, y0, norm_.quadrature_sum_of_squares([&](Index m) { return dq1_[m]; }, q0, rtol));
  Scalar h0 = (d0 < Scalar(1e-5) || d1 < Scalar(1e-5)) ? Scalar(1e-6) : Scalar(0.01) * d0 / d1;
  h0 = std::min(h0, std::abs(t_end - t0));
  Scalar* y1 = ws_.y_new.data();
  for (Index i = 0; i < n_; ++i) y1[i] = y0[i] + dir * h0 * f0[i];
  Scalar* f1 = ws_.k.data() + n_;  // k row 1 is free before the first step (adaptive: s >= 2)
  eval(t0 + dir * h0, y1, f1, dq_);
  for (Index i = 0; i < n_; ++i) y1[i] = f1[i] - f0[i];  // reuse y1 for f1 - f0
  for (Index m = 0; m < nq_; ++m) dq_[m] -= dq1_[m];     // and dq for its difference
  const Scalar d2 =
      norm_.weighted_rms(
          y1, y0, y0, norm_.quadrature_sum_of_squares([&](Index m) { return dq_[m]; }, q0, rtol)) /
      h0;
  const Scalar dmax = std::max(d1, d2);
  const Scalar h1 = dmax <= Scalar(1e-15)
                        ? std::max(Scalar(1e-6), h0 * Scalar(1e-3))
                        : std::pow(Scalar(0.01) / dmax, Scalar(1) / Scalar(tab_.order + 1));
  Scalar h = std::min(Scalar(100) * h0, h1);
  if (!std::isfinite(static_cast<double>(h)) || h <= 0) h = Scalar(1e-6);
  return h;
}

template <class Scalar>
void ExplicitRungeKutta<Scalar>::check_first_stage_finite(Scalar t, Scalar h) const {
  using neuralode::detail::cat;
  using neuralode::detail::num;
  const Index dim = ws_.dim();
  const Scalar* k1 = ws_.k.data();
  if (const Index i = first_nonfinite(k1, n_); i < n_)
    throw SolveError(cat("odeint: the right-hand side returned NaN/Inf at t = ", num(t),
                         " (the start of a step, h = ", num(h), "): dy/dt = ", num(k1[i]),
                         " at sample ", i / dim, ", component ", i % dim,
                         " although the state there is finite, so no smaller step can help",
                         kNonFiniteHint));
  if (nq_ > 0)
    if (const Index m = first_nonfinite(dq1_, nq_); m < nq_)
      throw SolveError(cat(
          "odeint: the quadrature's derivative is NaN/Inf at t = ", num(t),
          " (the start of a step, h = ", num(h), "): dq/dt = ", num(dq1_[m]), " at component ", m,
          " although the state there is finite, so no smaller step can help", kNonFiniteHint));
}

template <class Scalar>
void ExplicitRungeKutta<Scalar>::fail_nonfinite(Scalar t, Scalar h) {
  using neuralode::detail::cat;
  using neuralode::detail::num;
  const Index dim = ws_.dim();
  std::string cause;
  // Stage i's input is y + h sum_j a_ij k_j: finite when y and k_0..k_{i-1} are, unless it
  // overflows; recomputed into the stage buffer (the step is lost anyway) to tell the two apart.
  for (Index i = 0; i < s_ && cause.empty(); ++i) {
    const Scalar* ki = ws_.k.data() + i * n_;
    const Index m = first_nonfinite(ki, n_);
    if (m == n_) continue;
    const Scalar* input = ws_.y.data();
    if (i > 0) {
      Scalar* yi = ws_.stage.data();
      step_kernels::linear_combination(yi, input, terms_.rows(i), terms_.coef(i), terms_.count(i),
                                       n_);
      input = yi;
    }
    if (first_nonfinite(input, n_) < n_) break;  // the state overflowed first
    cause = cat(": the right-hand side returned dy/dt = ", num(ki[m]), " at stage ", i + 1,
                " (t = ", num(t + ws_.c[static_cast<std::size_t>(i)] * h), "), sample ", m / dim,
                ", component ", m % dim,
                ", from a finite stage input: the derivative is not finite there", kNonFiniteHint);
  }
  if (cause.empty())
    cause = nq_ > 0 && first_nonfinite(q_, nq_) < nq_
                ? std::string("; the quadrature's derivative is not finite there, or it blows up")
                : std::string("; the dynamics blow up there, or the step is far too large");
  throw SolveError(cat("odeint: NaN/Inf appeared in the state at t = ", num(t),
                       " (step h = ", num(h), ")", cause));
}

template <class Scalar>
void ExplicitRungeKutta<Scalar>::start_quadrature(Scalar h) {
  const Scalar b = ws_.b[0];
  if (fixed_) {
    if (b != Scalar(0))
      for (Index m = 0; m < nq_; ++m) q_[m] += h * b * dq1_[m];
    return;
  }
  if (b != Scalar(0))
    for (Index m = 0; m < nq_; ++m) acc_b_[m] = b * dq1_[m];
  else
    std::fill(acc_b_, acc_b_ + nq_, Scalar(0));
  if (acc_e_) {
    const Scalar e = ws_.e[0];
    if (e != Scalar(0))
      for (Index m = 0; m < nq_; ++m) acc_e_[m] = e * dq1_[m];
    else
      std::fill(acc_e_, acc_e_ + nq_, Scalar(0));
  }
}

template <class Scalar>
void ExplicitRungeKutta<Scalar>::add_stage_quadrature(Index i, Scalar h) {
  const Scalar b = ws_.b[static_cast<std::size_t>(i)];
  if (fixed_) {
    if (b != Scalar(0))
      for (Index m = 0; m < nq_; ++m) q_[m] += h * b * dq_[m];
    return;
  }
  const Scalar e = acc_e_ ? ws_.e[static_cast<std::size_t>(i)] : Scalar(0);
  if (b != Scalar(0) && e != Scalar(0)) {
    for (Index m = 0; m < nq_; ++m) {
      acc_b_[m] += b * dq_[m];
      acc_e_[m] += e * dq_[m];
    }
  } else if (b != Scalar(0)) {
    for (Index m = 0; m < nq_; ++m) acc_b_[m] += b * dq_[m];
  } else if (e != Scalar(0)) {
    for (Index m = 0; m < nq_; ++m) acc_e_[m] += e * dq_[m];
  }
}

template <class Scalar>
Scalar ExplicitRungeKutta<Scalar>::attempt(Scalar t, Scalar h, bool with_error) {
  const Scalar* y = ws_.y.data();
  Scalar* k = ws_.k.data();
  Scalar* stage = ws_.stage.data();
  Scalar* y_new = ws_.y_new.data();
  // With an observer every stage input is kept (s rows); otherwise one row is reused, and an
  // FSAL method's last stage input, which is y_new, is formed in y_new itself.
  if (obs_) std::copy(y, y + n_, stage);  // stage input 1 is y, recorded for the observer
  if (nq_) start_quadrature(h);
  terms_.scale(h);
  for (Index i = 1; i < s_; ++i) {
    Scalar* yi = obs_ ? stage + i * n_ : (tab_.fsal && i == s_ - 1 ? y_new : stage);
    step_kernels::linear_combination(yi, y, terms_.rows(i), terms_.coef(i), terms_.count(i), n_);
    const bool recorded = eval(t + ws_.c[i] * h, yi, k + i * n_, dq_, i);
    if (i == s_ - 1) last_stage_recorded_ = recorded;
    if (nq_) add_stage_quadrature(i, h);
  }
  const Index b_row = terms_.b_row();
  if (!tab_.fsal)
    step_kernels::linear_combination(y_new, y, terms_.rows(b_row), terms_.coef(b_row),
                                     terms_.count(b_row), n_);
  else if (obs_)  // the last stage was evaluated at y_new (last row of a equals b)
    std::copy(stage + (s_ - 1) * n_, stage + s_ * n_, y_new);
  const Scalar nan = std::numeric_limits<Scalar>::quiet_NaN();
  if (!with_error)  // fixed steps: q already holds q_new
    return all_finite(y_new, n_) && (!nq_ || all_finite(q_, nq_)) ? Scalar(0) : nan;
  // A NaN/Inf in q_new, or in the dq an FSAL method carries into the next step, rejects the step
  // whatever the norm's weights (as a NaN in a masked component of y does).
  if (nq_ && (!all_finite(acc_b_, nq_) || (tab_.fsal && !all_finite(dq_, nq_)))) return nan;
  // err = h sum_i e_i k_i, formed in registers and folded into the norm (error_norm.hpp): no
  // error buffer exists.
  const Index e = terms_.e_row();
  Scalar sum = norm_.sum_of_squares(terms_.rows(e), terms_.coef(e), terms_.count(e), y, y_new);
  // The quadrature's error h acc_e against q and q_new = q + h acc_b.
  if (acc_e_)
    sum += norm_.quadrature_sum_of_squares([&](Index m) { return h * acc_e_[m]; },
                                           [&](Index m) { return q_[m] + h * acc_b_[m]; },
                                           static_cast<Scalar>(opt_.rtol));
  return sum * norm_.inv_count();
}

}  // namespace
}  // namespace neuralode::ode::detail
