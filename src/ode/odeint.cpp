// odeint: the stepping loop. It owns time, the output times, step acceptance and the statistics;
// a stepper (explicit_runge_kutta.hpp: one method family) makes each attempt, a controller
// (step_size_controller.hpp) turns its error into the next step size, and dense output
// (dense_output.hpp) fills the outputs inside a step. The input checks are in solve_inputs.cpp.
//
// Where later features join (issue 16): an event function is checked in accept(), between the
// step's dense output and advance(): the committed step's interpolant (stepper.interpolate) is
// exactly what an event locator needs, and a terminal event ends the loop there by setting the
// step's end to the event time. Per-sample stepping replaces the scalar t, h and err of
// run_adaptive by one per row, with a row mask of active rows passed to stepper.attempt (the
// field is still evaluated for all rows together) and the controller's history per row.
#include "neuralode/ode/odeint.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "ode/explicit_runge_kutta.hpp"
#include "ode/solve_inputs.hpp"
#include "ode/step_size_controller.hpp"

namespace neuralode::ode {

namespace {

using neuralode::detail::cat;
using neuralode::detail::num;

// One solve with one stepper. Holds references only; all buffers are in the workspace.
template <class Scalar, class Stepper>
class Loop {
 public:
  Loop(Stepper& stepper, std::span<const Scalar> times, const SolveOptions& options,
       Solution<Scalar>& out, StepObserver<Scalar>* observer, bool fixed)
      : stepper_(stepper),
        times_(times),
        opt_(options),
        out_(out),
        obs_(observer),
        n_(out.batch * out.dim),
        dir_(times.back() >= times.front() ? 1 : -1),
        fixed_(fixed) {}

  void run(ConstMatrixView<Scalar> y0) {
    std::copy(y0.data(), y0.data() + n_, stepper_.state());
    std::copy(y0.data(), y0.data() + n_, out_.ys.data());
    if (obs_) obs_->on_output(0, -1, Scalar(0));
    if (times_.size() == 1) return;
    if (fixed_) {
      run_fixed();
    } else {
      stepper_.first_stage(times_.front());
      run_adaptive();
    }
  }

 private:
  SolveStats& stats() { return out_.stats; }
  // The attempt from t with step h is accepted: the stepper commits it, outputs in (t, t + h]
  // come from its dense output, then the observer; then the stepper advances to t_new.
  void accept(Scalar t, Scalar h, Scalar t_new);
  void run_fixed();
  void run_adaptive();
  // Step size underflow: below 16 eps |t| (span_test = false) or below 16 eps |t1 - t0| for
  // kMaxTinyAttempts attempts in a row (span_test = true; see run_adaptive).
  [[noreturn]] void fail_underflow(Scalar t, Scalar h, bool span_test, Scalar floor, int attempts,
                                   bool nonfinite_streak, bool saw_nonfinite) const {
    const Scalar t0 = times_.front(), t1 = times_.back();
    const std::string bound =
        span_test ? cat(" has stayed below 16*eps*|t1 - t0| = ", num(floor), " for ", attempts,
                        " attempts in a row, a size at which [", num(t0), ", ", num(t1),
                        "] would take ", "more than ",
                        num(1 / (16 * static_cast<double>(std::numeric_limits<Scalar>::epsilon()))),
                        " steps")
                  : cat(" is below 16*eps*|t| = ", num(floor));
    const std::string cause =
        nonfinite_streak
            ? cat("; every attempt since the last accepted step gave NaN/Inf: the right-hand "
                  "side or the state is not finite just after t = ",
                  num(t), " whatever the step", Stepper::kNonFiniteHint)
            : cat(saw_nonfinite ? " (after NaN/Inf appeared in the state)" : "",
                  "; rtol = ", num(opt_.rtol), " and atol = ", num(opt_.atol),
                  " ask for more than this problem allows over this interval: loosen them, ",
                  span_test ? "shorten the interval, " : "",
                  "or look for a singularity or stiffness near t = ", num(t));
    throw SolveError(
        cat("odeint: step size underflow at t = ", num(t), ": h = ", num(h), bound, cause));
  }

  Stepper& stepper_;
  std::span<const Scalar> times_;
  const SolveOptions& opt_;
  Solution<Scalar>& out_;
  StepObserver<Scalar>* obs_;
  const Index n_;
  const int dir_;
  const bool fixed_;
  std::size_t next_output_ = 1;
};

template <class Scalar, class Stepper>
void Loop<Scalar, Stepper>::accept(Scalar t, Scalar h, Scalar t_new) {
  SolveStats& st = stats();
  const Index step_index = st.num_accepted;
  ++st.num_accepted;
  st.last_step = static_cast<double>(h);
  stepper_.commit(h);

  // Dense output for every output time in (t, t_new]. Outputs never shorten a step.
  const std::size_t first_output = next_output_;
  while (next_output_ < times_.size() && dir_ * (times_[next_output_] - t_new) <= 0) {
    Scalar* row = out_.ys.data() + static_cast<Index>(next_output_) * n_;
    if (times_[next_output_] == t_new)
      std::copy(stepper_.state_new(), stepper_.state_new() + n_, row);
    else
      stepper_.interpolate(t_new, h, (times_[next_output_] - t) / h, row);
    ++next_output_;
  }

  if (obs_) {
    AcceptedStep<Scalar> step;
    stepper_.describe(step);
    step.index = step_index;
    step.t = t;
    step.h = h;
    obs_->on_step(step);
    // theta is exactly 1 for an output at the step's end: that output is a copy of y1.
    for (std::size_t o = first_output; o < next_output_; ++o)
      obs_->on_output(static_cast<Index>(o), step_index,
                      times_[o] == t_new ? Scalar(1) : (times_[o] - t) / h);
  }
  // Events (issue 16) are located here: the committed step's interpolant is still valid, and a
  // terminal one ends the solve at its time before advance() moves the state on.
  stepper_.advance();
}

template <class Scalar, class Stepper>
void Loop<Scalar, Stepper>::run_fixed() {
  SolveStats& st = stats();
  st.fixed_step = true;
  const Scalar t_end = times_.back();
  Scalar t = times_.front();
  const auto& grid = opt_.grid;
  const bool use_grid = !grid.empty();
  const bool use_step = !use_grid && opt_.step_size > 0;
  const Scalar hfix = static_cast<Scalar>(dir_ * opt_.step_size);
  std::size_t i = 1;
  for (std::int64_t k = 1; dir_ * (t_end - t) > 0; ++k) {
    Scalar t_new;
    if (use_grid) {
      t_new = static_cast<Scalar>(grid[i++]);
    } else if (use_step) {
      // Grid points t0 + k h, computed from t0 (not accumulated) so rounding does not drift.
      t_new = times_.front() + static_cast<Scalar>(k) * hfix;
      // A last sliver shorter than 1e-6 of a step is merged into the previous step.
      if (dir_ * (t_end - t_new) < Scalar(1e-6) * std::abs(hfix)) t_new = t_end;
    } else {
      t_new = times_[i++];
    }
    if (dir_ * (t_new - t_end) > 0) t_new = t_end;
    const Scalar h = t_new - t;
    if (st.num_accepted >= opt_.max_num_steps)
      throw SolveError(cat("odeint: max_num_steps = ", opt_.max_num_steps,
                           " reached at t = ", num(t), " of [", num(times_.front()), ", ",
                           num(t_end), "] (h = ", num(h), ", ", st.num_accepted,
                           " fixed steps); raise max_num_steps (--max-steps) or step_size"));
    if (!stepper_.has_first_stage()) stepper_.first_stage(t);
    if (st.num_accepted == 0) st.first_step_used = static_cast<double>(h);
    const Scalar status = stepper_.attempt(t, h, false);
    if (status != Scalar(0)) stepper_.fail_nonfinite(t, h);
    accept(t, h, t_new);
    t = t_new;
  }
}

template <class Scalar, class Stepper>
void Loop<Scalar, Stepper>::run_adaptive() {
  SolveStats& st = stats();
  const Scalar t_end = times_.back();
  Scalar t = times_.front();
  const Scalar eps = std::numeric_limits<Scalar>::epsilon();
  const Scalar min_step = static_cast<Scalar>(opt_.min_step);
  const Scalar max_step = static_cast<Scalar>(std::min(opt_.max_step, 1e300));
  detail::StepSizeController<Scalar> controller(opt_, stepper_.error_order());
  bool last_rejected = false;
  bool saw_nonfinite = false;     // in any attempt so far
  bool nonfinite_streak = false;  // in every attempt since the last accepted step
  // The underflow test |h| <= 16 eps |t| vanishes near t = 0, where a solve asked for far too
  // much could creep on with subnormal steps for ever. So steps below 16 eps |t1 - t0| (at which
  // size the interval would take over 10^14 steps) are allowed only kMaxTinyAttempts times in a
  // row: enough for a small first step to grow out of (accepted steps grow up to ifactor-fold).
  constexpr int kMaxTinyAttempts = 100;
  const Scalar span_floor = Scalar(16) * eps * std::abs(t_end - t);
  int tiny_attempts = 0;

  Scalar h_abs = opt_.first_step > 0 ? static_cast<Scalar>(opt_.first_step)
                                     : stepper_.initial_step(t, t_end, dir_);
  std::int64_t attempts = 0;
  while (dir_ * (t_end - t) > 0) {
    h_abs = std::clamp(h_abs, min_step, max_step);
    Scalar h = dir_ * h_abs;
    Scalar t_new = t + h;
    bool last = false;
    // Land exactly on the final time; stretch the step by up to 1% rather than leave a sliver
    // (as Hairer's DOPRI5 does), which rounding in t would otherwise turn into an underflow.
    if (dir_ * (t + Scalar(1.01) * h - t_end) >= 0) {
      h = t_end - t;
      t_new = t_end;
      last = true;
    }
    if (std::abs(h) <= Scalar(16) * eps * std::abs(t) || h == Scalar(0))
      fail_underflow(t, h, false, Scalar(16) * eps * std::abs(t), 0, nonfinite_streak,
                     saw_nonfinite);
    if (std::abs(h) < span_floor) {
      if (++tiny_attempts > kMaxTinyAttempts)
        fail_underflow(t, h, true, span_floor, kMaxTinyAttempts, nonfinite_streak, saw_nonfinite);
    } else {
      tiny_attempts = 0;
    }
    if (++attempts > opt_.max_num_steps)
      throw SolveError(cat("odeint: max_num_steps = ", opt_.max_num_steps, " reached at t = ",
                           num(t), " of [", num(times_.front()), ", ", num(t_end),
                           "] (h = ", num(h), ", ", st.num_accepted, " accepted, ", st.num_rejected,
                           " rejected steps); raise max_num_steps (--max-steps) if the solve "
                           "really needs more, or loosen rtol/atol; a stiff problem or a "
                           "blown-up system needs ever smaller steps"));
    if (!stepper_.has_first_stage()) stepper_.first_stage(t);
    if (st.num_accepted == 0 && st.num_rejected == 0) st.first_step_used = static_cast<double>(h);
    // Per-sample stepping (issue 16) makes t, h, err_sq and the accept decision per row, with a
    // mask of the rows still stepping passed to attempt.
    const Scalar err_sq = stepper_.attempt(t, h, true);
    if (!std::isfinite(static_cast<double>(err_sq))) {
      stepper_.check_first_stage_finite(t, h);
      saw_nonfinite = nonfinite_streak = true;
      ++st.num_rejected;
      h_abs = std::abs(h) * controller.failed();
      last_rejected = true;
      continue;
    }
    const bool pinned = min_step > 0 && std::abs(h) <= min_step;
    if (err_sq <= Scalar(1) || pinned) {
      const Scalar factor = controller.accepted(err_sq, last_rejected);
      accept(t, h, t_new);
      t = last ? t_end : t_new;
      h_abs = std::abs(h) * factor;
      last_rejected = false;
      nonfinite_streak = false;
    } else {
      ++st.num_rejected;
      const Scalar factor = controller.rejected(err_sq);
      h_abs = std::abs(h) * factor;
      last_rejected = true;
    }
  }
}

}  // namespace

template <class Scalar>
void odeint(System<Scalar>& f, ConstMatrixView<Scalar> y0, std::span<Scalar> q,
            std::span<const Scalar> times, const SolveOptions& options, SolverWorkspace<Scalar>& ws,
            Solution<Scalar>& out, StepObserver<Scalar>* observer) {
  const auto start = std::chrono::steady_clock::now();
  detail::check_solve_inputs(y0, std::span<const Scalar>(q.data(), q.size()), times, options,
                             f.quadrature_size());
  const Index nq = f.quadrature_size();
  const ButcherTableau& tab = find_method(options.method);
  const bool fixed = detail::is_fixed_step(tab, options);
  const bool adaptive = !fixed;
  ws.resize(tab, y0.rows(), y0.cols(), observer != nullptr);
  ws.resize_quadrature(nq, adaptive, adaptive && options.quadrature_norm_weight > 0);
  out.times.assign(times.begin(), times.end());
  out.ys.resize(static_cast<Index>(times.size()), y0.size());
  out.batch = y0.rows();
  out.dim = y0.cols();
  SolveStats& st = out.stats;
  st.method = options.method;
  st.fixed_step = false;
  st.nfe = st.num_accepted = st.num_rejected = 0;
  st.first_step_requested = options.first_step;
  st.first_step_used = st.last_step = 0;
  // The one method family today; another joins here as another stepper class.
  detail::ExplicitRungeKutta<Scalar> stepper(f, q, options, ws, st, observer, fixed);
  Loop<Scalar, detail::ExplicitRungeKutta<Scalar>>(stepper, times, options, out, observer, fixed)
      .run(y0);
  st.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class Scalar>
void odeint(System<Scalar>& f, ConstMatrixView<Scalar> y0, std::span<const Scalar> times,
            const SolveOptions& options, SolverWorkspace<Scalar>& ws, Solution<Scalar>& out,
            StepObserver<Scalar>* observer) {
  odeint(f, y0, std::span<Scalar>(), times, options, ws, out, observer);
}

template void odeint<float>(System<float>&, ConstMatrixView<float>, std::span<const float>,
                            const SolveOptions&, SolverWorkspace<float>&, Solution<float>&,
                            StepObserver<float>*);
template void odeint<double>(System<double>&, ConstMatrixView<double>, std::span<const double>,
                             const SolveOptions&, SolverWorkspace<double>&, Solution<double>&,
                             StepObserver<double>*);
template void odeint<float>(System<float>&, ConstMatrixView<float>, std::span<float>,
                            std::span<const float>, const SolveOptions&, SolverWorkspace<float>&,
                            Solution<float>&, StepObserver<float>*);
template void odeint<double>(System<double>&, ConstMatrixView<double>, std::span<double>,
                             std::span<const double>, const SolveOptions&, SolverWorkspace<double>&,
                             Solution<double>&, StepObserver<double>*);

}  // namespace neuralode::ode
