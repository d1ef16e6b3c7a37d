// odeint: the one stepping loop shared by every explicit Runge-Kutta method. Methods differ only
// in their tableau; fixed and adaptive stepping, dense output, quadratures and statistics live
// here.
#include "neuralode/ode/odeint.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <type_traits>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "ode/error_norm.hpp"
#include "ode/linear_combination.hpp"
#include "ode/step_factor_math.hpp"

namespace neuralode::ode {

namespace {

using detail::cat;
using detail::num;

// Independent partial sums per lane, so reductions vectorize (a single running sum is a serial
// chain of dependent adds: ~4 cycles per component, 40 % of a small adaptive step in perf).
constexpr Index kLanes = 8;

template <class Scalar>
Scalar sum_lanes(const Scalar (&lane)[kLanes]) {
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

template <class Scalar>
bool all_finite(const Scalar* x, Index n) {
  // A sum is finite iff no term is NaN/Inf (overflow of the sum itself is possible only for
  // states near the largest float, where the solve is lost anyway).
  Scalar lane[kLanes] = {};
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (Index l = 0; l < kLanes; ++l) lane[l] += x[i + l] * Scalar(0);
  for (; i < n; ++i) lane[0] += x[i] * Scalar(0);
  return sum_lanes(lane) == Scalar(0);
}

// The nonzero coefficients of a step's combinations with the k rows they multiply: a's rows
// 1..s-1 (the stage inputs), b (the update; unused by FSAL methods, whose last stage is the
// update) and e = b - bhat (the error estimate). Gathered once per solve; attempt() scales them
// all by h in one pass. Scanning the tableau for zeros at every stage instead (a data-dependent
// branch per coefficient) was a fifth of a 64-component dopri5 step in perf.
template <class Scalar>
class StepTerms {
 public:
  static constexpr Index kMaxStages = 16;

  StepTerms(const SolverWorkspace<Scalar>& ws, const Scalar* k, Index n) {
    const Index s = ws.tableau()->stages;
    if (s > kMaxStages)
      throw InvalidArgument(cat("odeint: a tableau has at most ", kMaxStages, " stages, not ", s));
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

// The first index whose value is not finite, or n.
template <class Scalar>
Index first_nonfinite(const Scalar* x, Index n) {
  for (Index i = 0; i < n; ++i)
    if (!std::isfinite(static_cast<double>(x[i]))) return i;
  return n;
}

template <class Scalar>
constexpr const char* scalar_name() {
  return std::is_same_v<Scalar, float> ? "float" : "double";
}

// Every check of the inputs that needs no step, run once before any work (the caller checks q and
// the norm weights against the system's quadrature).
template <class Scalar>
void check_inputs(ConstMatrixView<Scalar> y0, std::span<const Scalar> times,
                  const SolveOptions& options) {
  if (times.empty())
    throw InvalidArgument(
        "odeint: times is empty; accepted: at least one time (times[0] is the initial time)");
  if (y0.rows() <= 0 || y0.cols() <= 0)
    throw InvalidArgument(cat("odeint: y0 is ", y0.rows(), " x ", y0.cols(),
                              "; accepted: batch >= 1 rows and dim >= 1 columns"));
  options.validate(y0.rows(), y0.cols(),
                   static_cast<double>(std::numeric_limits<Scalar>::epsilon()));
  for (std::size_t i = 0; i < times.size(); ++i)
    if (!std::isfinite(static_cast<double>(times[i])))
      throw InvalidArgument(cat("odeint: times[", i, "] = ", num(times[i]),
                                " is not finite; accepted: finite times"));
  if (times.size() >= 2) {
    const bool forward = times[1] > times[0];
    for (std::size_t i = 1; i < times.size(); ++i) {
      if (times[i] == times[i - 1])
        throw InvalidArgument(cat("odeint: times must be strictly increasing or decreasing; times[",
                                  i, "] = ", num(times[i]), " equals times[", i - 1, "]"));
      if ((times[i] > times[i - 1]) != forward)
        throw InvalidArgument(
            cat("odeint: times must be strictly ", forward ? "increasing" : "decreasing",
                " (set by times[0] -> times[1]); times[", i, "] = ", num(times[i]), " after times[",
                i - 1, "] = ", num(times[i - 1])));
    }
  }
  const Index n = y0.size();
  if (const Index i = first_nonfinite(y0.data(), n); i < n)
    throw InvalidArgument(cat("odeint: y0 has a non-finite value ", num(y0.data()[i]),
                              " at sample ", i / y0.cols(), ", component ", i % y0.cols(),
                              "; accepted: finite initial values"));
  if (times.size() < 2) return;  // no step will be taken

  const double t0 = static_cast<double>(times.front()), t1 = static_cast<double>(times.back());
  // The span must be a finite Scalar: the steps and the underflow test are computed from it.
  const Scalar span_scalar = times.back() - times.front();
  if (!std::isfinite(static_cast<double>(span_scalar)))
    throw InvalidArgument(cat("odeint: the interval from times[0] = ", num(t0),
                              " to times.back() = ", num(t1), " is longer than ",
                              scalar_name<Scalar>(),
                              " can hold (t1 - t0 overflows); accepted: |t1 - t0| <= ",
                              num(static_cast<double>(std::numeric_limits<Scalar>::max()))));
  const double span = std::abs(t1 - t0);
  const double eps = static_cast<double>(std::numeric_limits<Scalar>::epsilon());
  const ButcherTableau& tab = find_method(options.method);
  const bool adaptive = tab.adaptive() && options.step_size == 0 && options.grid.empty();

  // The number of steps a fixed-step solve takes is known now: refuse one beyond max_num_steps
  // before the first step rather than after hours of steps.
  auto refuse_steps = [&](double steps, const std::string& how, const char* fix) {
    throw InvalidArgument(cat("odeint: this fixed-step solve would take ",
                              std::isfinite(steps) ? num(steps) : std::string("over 1.8e+308"),
                              " steps (", how,
                              "), more than max_num_steps = ", options.max_num_steps,
                              "; accepted: at most max_num_steps steps; ", fix));
  };
  const auto max_steps = static_cast<double>(options.max_num_steps);
  if (!options.grid.empty()) {
    const auto& g = options.grid;
    // The grid must start at the initial time and reach the last output time, in the same
    // direction.
    if (g.front() != t0 || ((g[1] > g[0]) != (t1 > t0)) ||
        (t1 > t0 ? g.back() < t1 : g.back() > t1))
      throw InvalidArgument(cat(
          "odeint: grid must start at times[0] = ", num(t0), " and run to times.back() = ", num(t1),
          " in the same direction; it runs from ", num(g.front()), " to ", num(g.back())));
    // Steps up to the last output time; each must be a nonzero step in Scalar (a grid of distinct
    // doubles can repeat a float, and a zero step divides dense output by zero).
    std::size_t steps = 0;
    for (std::size_t i = 1; i < g.size(); ++i) {
      if (static_cast<Scalar>(g[i]) == static_cast<Scalar>(g[i - 1]))
        throw InvalidArgument(cat("odeint: grid[", i, "] = ", num(g[i]), " and grid[", i - 1,
                                  "] = ", num(g[i - 1]), " are the same ", scalar_name<Scalar>(),
                                  "; accepted: grid points distinct in the solve's scalar type"));
      ++steps;
      if ((t1 > t0) ? g[i] >= t1 : g[i] <= t1) break;
    }
    if (static_cast<double>(steps) > max_steps)
      refuse_steps(static_cast<double>(steps), cat("one per grid interval up to times.back()"),
                   "raise max_num_steps (--max-steps) or use a coarser grid");
  } else if (options.step_size > 0) {
    // t0 + k h for k = 1, 2, ...; a last sliver under 1e-6 h is merged into the step before.
    const double steps = std::ceil(span / options.step_size - 1e-6);
    if (!(steps <= max_steps))  // also when span / step_size overflows
      refuse_steps(steps,
                   cat("|t1 - t0| = ", num(span), " over step_size = ", num(options.step_size)),
                   "raise max_num_steps (--max-steps) or step_size, or shorten the interval");
    // A step the time axis cannot resolve: t0 + k h would repeat times or make steps of 0.
    const double resolution = 16 * eps * std::max(std::abs(t0), std::abs(t1));
    if (options.step_size < resolution)
      throw InvalidArgument(cat("odeint: step_size = ", num(options.step_size),
                                " is below 16*eps*max(|t0|, |t1|) = ", num(resolution),
                                ", the smallest step ", scalar_name<Scalar>(),
                                " resolves at t = ", num(std::max(std::abs(t0), std::abs(t1))),
                                "; accepted: step_size >= ", num(resolution)));
  } else if (!tab.adaptive() && static_cast<double>(times.size() - 1) > max_steps) {
    refuse_steps(static_cast<double>(times.size() - 1), "one per output interval",
                 "raise max_num_steps (--max-steps) or give fewer output times");
  }
  // Adaptive steps below 16 eps |t1 - t0| (over 10^14 of them to cover the interval) end the
  // solve after kMaxTinyAttempts of them in a row (run_adaptive); a first step or a step bound
  // that keeps them there is refused now instead.
  const double span_floor = 16 * eps * span;
  if (adaptive && options.first_step > 0 && options.first_step < span_floor)
    throw InvalidArgument(cat("odeint: first_step = ", num(options.first_step),
                              " is below 16*eps*|t1 - t0| = ", num(span_floor),
                              ", a size at which the interval would take over 10^14 steps; "
                              "accepted: first_step >= ",
                              num(span_floor), ", or 0 (automatic)"));
  if (adaptive && options.max_step < span_floor)
    throw InvalidArgument(cat("odeint: max_step = ", num(options.max_step),
                              " is below 16*eps*|t1 - t0| = ", num(span_floor),
                              ", a size at which the interval would take over 10^14 steps; "
                              "accepted: max_step >= ",
                              num(span_floor)));
  if (adaptive && options.first_step > span)
    throw InvalidArgument(cat("odeint: first_step = ", num(options.first_step),
                              " exceeds the interval |times.back() - times[0]| = ", num(span),
                              "; accepted: first_step in (0, ", num(span), "], or 0 (automatic)"));
}

// Whether a solve steps on a fixed grid (no error control) or adaptively.
bool is_fixed_step(const ButcherTableau& tab, const SolveOptions& options) {
  return !tab.adaptive() || options.step_size > 0 || !options.grid.empty();
}

// One solve. Holds references only; all buffers are in the workspace (and q, the caller's).
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
template <class Scalar>
class Integrator {
 public:
  Integrator(System<Scalar>& f, std::span<Scalar> q, std::span<const Scalar> times,
             const SolveOptions& options, SolverWorkspace<Scalar>& ws, Solution<Scalar>& out,
             StepObserver<Scalar>* observer)
      : f_(f),
        times_(times),
        opt_(options),
        ws_(ws),
        out_(out),
        obs_(observer),
        tab_(*ws.tableau()),
        s_(tab_.stages),
        n_(ws.size()),
        dir_(times.back() >= times.front() ? 1 : -1),
        fixed_(is_fixed_step(tab_, options)),
        nq_(static_cast<Index>(q.size())),
        q_(q.data()),
        qw_(static_cast<Scalar>(options.quadrature_norm_weight)),
        records_(observer && nq_ == 0 && f.record_size(ws.batch()) >= 0),
        terms_(ws, ws.k.data(), n_) {
    if (nq_ > 0) {
      dq_ = ws.dq.data();
      // Fixed steps consume the first stage's dq before the next stage overwrites it: one buffer.
      dq1_ = fixed_ ? dq_ : ws.dq1.data();
      acc_b_ = fixed_ ? nullptr : ws.acc_b.data();
      acc_e_ = ws.acc_e.size() ? ws.acc_e.data() : nullptr;
    }
  }

  void run(ConstMatrixView<Scalar> y0);

 private:
  void setup_norm();
  // dy = f(t, y) and, when dq is given (a quadrature solve), dq = q'(t, y).
  // The views are built in the argument slots themselves (prvalues, no copy): named views copied
  // into the by-value arguments were written as 8-byte fields and read back as 16-byte blocks,
  // a store-forwarding stall that perf put at ~12 % of a step at dim 64.
  // A stage >= 0 names the stage this evaluation is (0 = f(t, y0)): when the observer gives it
  // a record slot (recording systems only, never with a quadrature), the system writes its
  // record there. Returns whether it did.
  bool eval(Scalar t, const Scalar* y, Scalar* dy, Scalar* dq = nullptr, Index stage = -1) {
    const Index b = ws_.batch(), d = ws_.dim();
    ++stats().nfe;
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
  // f(t, y) into k row 0 as stage 0, noting where its record went.
  void eval_first_stage(Scalar t) {
    const bool recorded = eval(t, ws_.y.data(), ws_.k.data(), dq1_, 0);
    first_stage_record_ = recorded ? FirstStageRecord::own : FirstStageRecord::none;
  }
  SolveStats& stats() { return out_.stats; }
  // Stages 2..s and y_new; k row 0 must hold f(t, y). Returns the *square* of the error norm
  // (0 if !with_error; NaN when y_new is not finite): the controller needs only its log and
  // comparisons with 1, so the square root stays off the chain from one step to the next.
  Scalar attempt(Scalar t, Scalar h, bool with_error);
  Scalar weighted_rms(const Scalar* num, const Scalar* y_a, const Scalar* y_b,
                      Scalar quadrature_sum) const;
  // sum_m (w_m x_m / (atol_m + rtol max(|y_a,m|, |y_b,m|)))^2 over the n components of
  // x = sum_j coef[j] rows[j] (error_norm.hpp).
  Scalar sum_of_squares(const Scalar* const* rows, const Scalar* coef, int count, const Scalar* y_a,
                        const Scalar* y_b) const;
  template <class Num, class Qb>
  Scalar quadrature_sum_of_squares(Num num, Qb q_b, Scalar rtol) const;
  // The first stage's and stage i's contributions to the quadrature update (see the class).
  void start_quadrature(Scalar h);
  void add_stage_quadrature(Index i, Scalar h);
  Scalar initial_step(Scalar t0, Scalar t_end);
  // Outputs in (t, t + h], then the observer; then y <- y_new and the next step's first stage.
  void accept(Scalar t, Scalar h, Scalar t_new);
  void run_fixed();
  void run_adaptive();
  // After a fixed step whose result is not finite: names the first stage whose derivative is not
  // finite although its input is (the right-hand side's doing), or else the state's blow-up.
  [[noreturn]] void fail_nonfinite(Scalar t, Scalar h);
  // After an attempt whose result is not finite: f(t, y) at the step's start (k row 0, and dq1
  // with a quadrature) is evaluated at the accepted, finite state, so if it is not finite no
  // smaller step can help: throws SolveError saying so. Failure path only; never on a valid step.
  void check_first_stage_finite(Scalar t, Scalar h) const;
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
                  num(t), " whatever the step", kNonFiniteHint)
            : cat(saw_nonfinite ? " (after NaN/Inf appeared in the state)" : "",
                  "; rtol = ", num(opt_.rtol), " and atol = ", num(opt_.atol),
                  " ask for more than this problem allows over this interval: loosen them, ",
                  span_test ? "shorten the interval, " : "",
                  "or look for a singularity or stiffness near t = ", num(t));
    throw SolveError(
        cat("odeint: step size underflow at t = ", num(t), ": h = ", num(h), bound, cause));
  }
  static constexpr const char* kNonFiniteHint =
      "; look for a division by zero, a log or sqrt of a negative number, an overflow in the "
      "system, or NaN/Inf parameters (a diverged training run leaves those)";

  System<Scalar>& f_;
  std::span<const Scalar> times_;
  const SolveOptions& opt_;
  SolverWorkspace<Scalar>& ws_;
  Solution<Scalar>& out_;
  StepObserver<Scalar>* obs_;
  const ButcherTableau& tab_;
  const Index s_, n_;
  const int dir_;
  const bool fixed_;
  // Quadrature: Q, the caller's q, and the workspace's buffers (null when Q = 0 or not needed).
  const Index nq_;
  Scalar* const q_;
  const Scalar qw_;
  Scalar *dq_ = nullptr, *dq1_ = nullptr, *acc_b_ = nullptr, *acc_e_ = nullptr;
  std::size_t next_output_ = 1;
  bool k1_valid_ = false;  // k row 0 (and dq1 with a quadrature) holds f(t, y) for the current t
  bool f_end_valid_ = false;
  // Recorded evaluations (StepObserver::stage_record): whether to ask for slots at all, where
  // the current k row 0's record is, and whether the last attempt recorded its last stage.
  const bool records_;
  FirstStageRecord first_stage_record_ = FirstStageRecord::none;
  bool last_stage_recorded_ = false;
  StepTerms<Scalar> terms_;
  step_kernels::NormScale<Scalar> norm_{};                              // set by setup_norm()
  const Scalar inv_count_ = Scalar(1) / static_cast<Scalar>(n_ + nq_);  // for the mean square
};

template <class Scalar>
void Integrator<Scalar>::setup_norm() {
  // Per-component vectors are expanded to batch*dim once per solve, and only when given: the
  // adjoint's state holds every parameter, where two more state-sized buffers would cost
  // hundreds of MiB.
  const Index dim = ws_.dim();
  auto expand = [&](const std::vector<double>& v, Vector<Scalar>& to) {
    to.resize(v.empty() ? 0 : n_);
    for (Index i = 0; i < static_cast<Index>(to.size()); ++i)
      to[i] = static_cast<Scalar>(static_cast<Index>(v.size()) == n_ ? v[i] : v[i % dim]);
  };
  expand(opt_.atol_per_component, ws_.atol);
  expand(opt_.norm_weights, ws_.weights);
  norm_.rtol = static_cast<Scalar>(opt_.rtol);
  norm_.atol0 = static_cast<Scalar>(opt_.atol);
  norm_.atol = ws_.atol.size() ? ws_.atol.data() : nullptr;
  norm_.weights = ws_.weights.size() ? ws_.weights.data() : nullptr;
  // The reciprocal estimate needs a normal scale >= atol: divide when an atol is within 1e6 of
  // the smallest normal number (such an atol asks for more than the precision holds anyway).
  const Scalar min_atol = norm_.atol ? ws_.atol.minCoeff() : norm_.atol0;
  norm_.exact = min_atol < Scalar(1e6) * std::numeric_limits<Scalar>::min();
}

template <class Scalar>
void Integrator<Scalar>::check_first_stage_finite(Scalar t, Scalar h) const {
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
void Integrator<Scalar>::fail_nonfinite(Scalar t, Scalar h) {
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

// sqrt(sum_i (w_i num_i / (atol_i + rtol max(|a_i|, |b_i|)))^2 / (n + Q)) over all n = batch*dim
// components plus the Q quadrature components, whose terms the caller sums (quadrature_sum). A
// zero weight removes a component's contribution but not its share of the mean, as diffrax's
// adjoint_rms_seminorm does: masking can only lower the norm, never raise it.
template <class Scalar>
Scalar Integrator<Scalar>::weighted_rms(const Scalar* num, const Scalar* y_a, const Scalar* y_b,
                                        Scalar quadrature_sum) const {
  const Scalar* rows[1] = {num};
  const Scalar one[1] = {Scalar(1)};  // num as a combination of one term: 1 * num is exact
  return std::sqrt((sum_of_squares(rows, one, 1, y_a, y_b) + quadrature_sum) * inv_count_);
}

template <class Scalar>
Scalar Integrator<Scalar>::sum_of_squares(const Scalar* const* rows, const Scalar* coef, int count,
                                          const Scalar* y_a, const Scalar* y_b) const {
  using step_kernels::error_sum_of_squares;
  if (norm_.atol && norm_.weights)
    return error_sum_of_squares<true, true>(rows, coef, count, n_, y_a, y_b, norm_);
  if (norm_.atol) return error_sum_of_squares<true, false>(rows, coef, count, n_, y_a, y_b, norm_);
  if (norm_.weights)
    return error_sum_of_squares<false, true>(rows, coef, count, n_, y_a, y_b, norm_);
  return error_sum_of_squares<false, false>(rows, coef, count, n_, y_a, y_b, norm_);
}

// The quadrature's terms of the norm: sum_m (w_q num(m) / (atol + rtol max(|q_m|, |q_b(m)|)))^2
// with the one weight w_q = quadrature_norm_weight. w_q = 0 (the seminorm) skips the pass: its
// terms are zero, though they still count in weighted_rms's divisor.
template <class Scalar>
template <class Num, class Qb>
Scalar Integrator<Scalar>::quadrature_sum_of_squares(Num num, Qb q_b, Scalar rtol) const {
  if (nq_ == 0 || qw_ == Scalar(0)) return 0;
  const Scalar atol = static_cast<Scalar>(opt_.atol);
  Scalar sum = 0;
  for (Index m = 0; m < nq_; ++m) {
    const Scalar r = qw_ * num(m) / (atol + rtol * std::max(std::abs(q_[m]), std::abs(q_b(m))));
    sum += r * r;
  }
  return sum;
}

template <class Scalar>
void Integrator<Scalar>::start_quadrature(Scalar h) {
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
void Integrator<Scalar>::add_stage_quadrature(Index i, Scalar h) {
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
Scalar Integrator<Scalar>::attempt(Scalar t, Scalar h, bool with_error) {
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
  Scalar sum = sum_of_squares(terms_.rows(e), terms_.coef(e), terms_.count(e), y, y_new);
  // The quadrature's error h acc_e against q and q_new = q + h acc_b.
  if (acc_e_)
    sum += quadrature_sum_of_squares([&](Index m) { return h * acc_e_[m]; },
                                     [&](Index m) { return q_[m] + h * acc_b_[m]; },
                                     static_cast<Scalar>(opt_.rtol));
  return sum * inv_count_;
}

template <class Scalar>
void Integrator<Scalar>::accept(Scalar t, Scalar h, Scalar t_new) {
  SolveStats& st = stats();
  const Index step_index = st.num_accepted;
  ++st.num_accepted;
  st.last_step = static_cast<double>(h);
  f_end_valid_ = false;
  if (nq_ && !fixed_)
    for (Index m = 0; m < nq_; ++m) q_[m] += h * acc_b_[m];

  // Dense output for every output time in (t, t_new]. Outputs never shorten a step.
  const std::size_t first_output = next_output_;
  while (next_output_ < times_.size() && dir_ * (times_[next_output_] - t_new) <= 0) {
    Scalar* row = out_.ys.data() + static_cast<Index>(next_output_) * n_;
    const Scalar theta = (times_[next_output_] - t) / h;
    if (times_[next_output_] == t_new) {
      std::copy(ws_.y_new.data(), ws_.y_new.data() + n_, row);
    } else {
      tab_.dense_weights(static_cast<double>(theta), ws_.w.data());
      const double w_end = ws_.w[static_cast<std::size_t>(s_)];
      if (w_end != 0.0 && !f_end_valid_) {
        if (ws_.f_end.size() != n_)
          ws_.f_end.resize(n_);  // once per workspace: Hermite output only
        eval(t_new, ws_.y_new.data(), ws_.f_end.data());
        f_end_valid_ = true;
      }
      const Scalar* y = ws_.y.data();
      std::copy(y, y + n_, row);
      for (Index i = 0; i <= s_; ++i) {
        const Scalar hw = h * static_cast<Scalar>(ws_.w[static_cast<std::size_t>(i)]);
        if (hw == Scalar(0)) continue;
        const Scalar* ki = i < s_ ? ws_.k.data() + i * n_ : ws_.f_end.data();
        for (Index m = 0; m < n_; ++m) row[m] += hw * ki[m];
      }
    }
    ++next_output_;
  }

  if (obs_) {
    AcceptedStep<Scalar> step;
    step.tableau = &tab_;
    step.index = step_index;
    step.t = t;
    step.h = h;
    step.batch = ws_.batch();
    step.dim = ws_.dim();
    step.y0 = ws_.y.data();
    step.y1 = ws_.y_new.data();
    step.stage_inputs = ws_.stage.data();
    step.stage_derivs = ws_.k.data();
    step.f_end = f_end_valid_ ? ws_.f_end.data() : nullptr;
    step.first_stage_record = first_stage_record_;
    obs_->on_step(step);
    // theta is exactly 1 for an output at the step's end: that output is a copy of y1.
    for (std::size_t o = first_output; o < next_output_; ++o)
      obs_->on_output(static_cast<Index>(o), step_index,
                      times_[o] == t_new ? Scalar(1) : (times_[o] - t) / h);
  }

  ws_.y.swap(ws_.y_new);
  // The next step's first stage f(t_new, y_new): the last stage for FSAL methods, or the value
  // already computed for Hermite output; otherwise computed lazily by the next step.
  if (tab_.fsal) {
    std::copy(ws_.k.data() + (s_ - 1) * n_, ws_.k.data() + s_ * n_, ws_.k.data());
    // The last stage's dq (in dq_) is the next first stage's; with fixed steps dq1_ is dq_.
    if (nq_ && !fixed_) std::swap(dq1_, dq_);
    k1_valid_ = true;
    first_stage_record_ =
        last_stage_recorded_ ? FirstStageRecord::previous_last : FirstStageRecord::none;
  } else if (f_end_valid_ && !nq_) {  // f_end comes without dq (never evaluated with a quadrature)
    std::copy(ws_.f_end.data(), ws_.f_end.data() + n_, ws_.k.data());
    k1_valid_ = true;
    first_stage_record_ = FirstStageRecord::none;
  } else {
    k1_valid_ = false;
  }
}

// Hairer, Norsett & Wanner I, section II.4, "Starting Step Size" (as also used by torchdiffeq):
// an explicit Euler step of size h0 = 0.01 d0/d1 estimates the second derivative, and
// h1 = (0.01 / max(d1, d2))^(1/(p+1)) makes the local error of order p about 0.01 in the norm.
template <class Scalar>
Scalar Integrator<Scalar>::initial_step(Scalar t0, Scalar t_end) {
  const Scalar rtol = static_cast<Scalar>(opt_.rtol);
  const Scalar* y0 = ws_.y.data();
  const Scalar* f0 = ws_.k.data();
  // The quadrature takes part as if it were part of y (q0 and its derivative dq1).
  auto q0 = [&](Index m) { return q_[m]; };
  const Scalar d0 = weighted_rms(y0, y0, y0, quadrature_sum_of_squares(q0, q0, rtol));
  const Scalar d1 = weighted_rms(
      f0, y0, y0, quadrature_sum_of_squares([&](Index m) { return dq1_[m]; }, q0, rtol));
  Scalar h0 = (d0 < Scalar(1e-5) || d1 < Scalar(1e-5)) ? Scalar(1e-6) : Scalar(0.01) * d0 / d1;
  h0 = std::min(h0, std::abs(t_end - t0));
  Scalar* y1 = ws_.y_new.data();
  for (Index i = 0; i < n_; ++i) y1[i] = y0[i] + dir_ * h0 * f0[i];
  Scalar* f1 = ws_.k.data() + n_;  // k row 1 is free before the first step (adaptive: s >= 2)
  eval(t0 + dir_ * h0, y1, f1, dq_);
  for (Index i = 0; i < n_; ++i) y1[i] = f1[i] - f0[i];  // reuse y1 for f1 - f0
  for (Index m = 0; m < nq_; ++m) dq_[m] -= dq1_[m];     // and dq for its difference
  const Scalar d2 =
      weighted_rms(y1, y0, y0,
                   quadrature_sum_of_squares([&](Index m) { return dq_[m]; }, q0, rtol)) /
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
void Integrator<Scalar>::run_fixed() {
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
    if (!k1_valid_) eval_first_stage(t);
    if (st.num_accepted == 0) st.first_step_used = static_cast<double>(h);
    const Scalar status = attempt(t, h, false);
    if (status != Scalar(0)) fail_nonfinite(t, h);
    accept(t, h, t_new);
    t = t_new;
  }
}

template <class Scalar>
void Integrator<Scalar>::run_adaptive() {
  SolveStats& st = stats();
  const Scalar t_end = times_.back();
  Scalar t = times_.front();
  const Scalar eps = std::numeric_limits<Scalar>::epsilon();
  const Scalar safety = static_cast<Scalar>(opt_.safety);
  const Scalar ifactor = static_cast<Scalar>(opt_.ifactor);
  const Scalar dfactor = static_cast<Scalar>(opt_.dfactor);
  const Scalar min_step = static_cast<Scalar>(opt_.min_step);
  const Scalar max_step = static_cast<Scalar>(std::min(opt_.max_step, 1e300));
  // Error exponent 1/(q+1) for an embedded pair p(q): the estimate is O(h^(q+1)).
  const int q = std::min(tab_.order, tab_.embedded_order);
  const Scalar beta =
      opt_.controller == Controller::pi ? static_cast<Scalar>(opt_.pi_beta) : Scalar(0);
  const Scalar expo = Scalar(1) / Scalar(q + 1) - Scalar(0.75) * beta;  // Hairer's DOPRI5: expo1
  // log of the previous accepted error (Hairer's facold, initially 1e-4): keeping the log turns
  // the PI factor err^-expo * err_prev^beta into one exp and one log per step instead of two
  // pow calls, and those are the inline ones of step_factor_math.hpp (libm's pow, and later its
  // expf and logf, were ~9 % and ~8 % of a small adaptive step).
  const double log_1e_4 = std::log(1e-4);
  double log_err_prev = log_1e_4;
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

  Scalar h_abs =
      opt_.first_step > 0 ? static_cast<Scalar>(opt_.first_step) : initial_step(t, t_end);
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
    if (!k1_valid_) {
      eval_first_stage(t);
      k1_valid_ = true;
    }
    if (st.num_accepted == 0 && st.num_rejected == 0) st.first_step_used = static_cast<double>(h);
    const Scalar err_sq = attempt(t, h, true);
    if (!std::isfinite(static_cast<double>(err_sq))) {
      check_first_stage_finite(t, h);
      saw_nonfinite = nonfinite_streak = true;
      ++st.num_rejected;
      h_abs = std::abs(h) * dfactor;
      last_rejected = true;
      continue;
    }
    const bool pinned = min_step > 0 && std::abs(h) <= min_step;
    if (err_sq <= Scalar(1) || pinned) {
      // One log serves both uses: log max(err, 1e-4) is log err unless err is below 1e-4.
      const double log_err = err_sq == Scalar(0)
                                 ? log_1e_4
                                 : 0.5 * step_kernels::controller_log(static_cast<double>(err_sq));
      Scalar factor = err_sq == Scalar(0)
                          ? ifactor
                          : safety * static_cast<Scalar>(step_kernels::controller_exp(
                                         static_cast<double>(beta) * log_err_prev -
                                         static_cast<double>(expo) * log_err));
      factor = std::clamp(factor, dfactor, ifactor);
      if (last_rejected)
        factor = std::min(factor, Scalar(1));  // Hairer: no growth right after a rejection
      log_err_prev = err_sq >= Scalar(1e-8) ? log_err : log_1e_4;
      accept(t, h, t_new);
      t = last ? t_end : t_new;
      h_abs = std::abs(h) * factor;
      last_rejected = false;
      nonfinite_streak = false;
    } else {
      ++st.num_rejected;
      const Scalar factor =
          std::max(dfactor, safety * std::pow(err_sq, Scalar(-0.5) / Scalar(q + 1)));
      h_abs = std::abs(h) * factor;
      last_rejected = true;
    }
  }
}

template <class Scalar>
void Integrator<Scalar>::run(ConstMatrixView<Scalar> y0) {
  setup_norm();
  std::copy(y0.data(), y0.data() + n_, ws_.y.data());
  std::copy(y0.data(), y0.data() + n_, out_.ys.data());
  if (obs_) obs_->on_output(0, -1, Scalar(0));
  if (times_.size() == 1) return;
  if (fixed_) {
    run_fixed();
  } else {
    eval_first_stage(times_.front());
    k1_valid_ = true;
    run_adaptive();
  }
}

}  // namespace

template <class Scalar>
void odeint(System<Scalar>& f, ConstMatrixView<Scalar> y0, std::span<Scalar> q,
            std::span<const Scalar> times, const SolveOptions& options, SolverWorkspace<Scalar>& ws,
            Solution<Scalar>& out, StepObserver<Scalar>* observer) {
  const auto start = std::chrono::steady_clock::now();
  check_inputs(y0, times, options);
  const Index nq = f.quadrature_size();
  if (static_cast<Index>(q.size()) != nq)
    throw InvalidArgument(
        nq == 0 ? cat("odeint: q has ", q.size(),
                      " values but the system has no quadrature (quadrature_size() = 0); pass "
                      "an empty q")
                : cat("odeint: the system has a quadrature of ", nq,
                      " components; pass q with that many values (q(times[0]) in, "
                      "q(times.back()) out), not ",
                      q.size()));
  if (nq > 0 && times.size() > 2)
    throw InvalidArgument(
        cat("odeint: a system with a quadrature is solved over one interval (at most 2 output "
            "times): q is returned at times.back() only, with no dense output; got ",
            times.size(), " times. Solve interval by interval, passing q on"));
  for (Index m = 0; m < nq; ++m)
    if (!std::isfinite(static_cast<double>(q[static_cast<std::size_t>(m)])))
      throw InvalidArgument(cat("odeint: q has a non-finite value ",
                                num(q[static_cast<std::size_t>(m)]), " at component ", m,
                                "; accepted: finite initial values"));
  const ButcherTableau& tab = find_method(options.method);
  const bool adaptive = !is_fixed_step(tab, options);
  // All-zero weights leave nothing in the error norm (unless a weighted quadrature is): every
  // step would be accepted, error control silently off.
  if (adaptive && !options.norm_weights.empty() &&
      (nq == 0 || options.quadrature_norm_weight == 0) &&
      std::all_of(options.norm_weights.begin(), options.norm_weights.end(),
                  [](double w) { return w == 0; }))
    throw InvalidArgument(cat(
        "odeint: norm_weights are all 0 (", options.norm_weights.size(),
        " entries), which leaves no component in the error norm and switches error control off; "
        "accepted: at least one weight > 0",
        nq > 0 ? " (or quadrature_norm_weight > 0)" : "",
        "; for steps without error control set step_size or use a fixed-step method"));
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
  Integrator<Scalar>(f, q, times, options, ws, out, observer).run(y0);
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
