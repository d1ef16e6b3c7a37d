// Checkpoint: the interpolating adjoint with checkpoints, as in CVODES (Serban & Hindmarsh 2005).
// The forward solve keeps the state every K accepted steps and the step end times (one scalar per
// step). The backward pass walks the segments from last to first: it re-solves one segment forward
// on exactly the recorded steps, keeps that segment's stages for dense output, and integrates the
// adjoint [a, g] backwards with x(t) read from that interpolant, instead of integrating x backwards
// (unstable for dissipative dynamics). Memory: N/K states + N scalars + one segment of K steps;
// compute: one extra forward solve in total.
#include <algorithm>

#include "grad/augmented_dynamics.hpp"
#include "grad/methods.hpp"
#include "grad/tape.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "neuralode/ode/odeint.hpp"
#include "ode/dense_output.hpp"

namespace neuralode::grad::detail {

namespace {

template <class Scalar>
class Checkpoint final : public GradientMethod<Scalar> {
 public:
  using Base = GradientMethod<Scalar>;
  explicit Checkpoint(const GradOptions& options) : Base(options) {}

 private:
  // The forward solve's observer: the initial time, a state every K steps, every step's end.
  struct ForwardRecorder final : ode::StepObserver<Scalar> {
    explicit ForwardRecorder(Checkpoint& c) : c(c) {}
    void on_step(const ode::AcceptedStep<Scalar>& step) override {
      if (step.index == 0) c.t0_ = step.t;
      if (step.index % c.K_ == 0) std::copy(step.y0, step.y0 + c.n_, c.checkpoints_.append());
      c.step_ends_.push_back(step.t + step.h);
    }
    Checkpoint& c;
  };
  // A segment replay's observer: t, h, y0 and every stage derivative of each step, for dense
  // output (record layout: t, h, y0 (n), k (s x n)).
  struct SegmentRecorder final : ode::StepObserver<Scalar> {
    explicit SegmentRecorder(Checkpoint& c) : c(c) {}
    void on_step(const ode::AcceptedStep<Scalar>& step) override {
      const Index n = c.n_, s = step.tableau->stages;
      Scalar* rec = c.segment_.append();
      rec[0] = step.t;
      rec[1] = step.h;
      std::copy(step.y0, step.y0 + n, rec + 2);
      std::copy(step.stage_derivs, step.stage_derivs + s * n, rec + 2 + n);
    }
    Checkpoint& c;
  };

  // ---- forward: step boundaries and a state every K steps ----
  void do_forward(ConstMatrixView<Scalar> y0) override {
    tab_ = &ode::find_method(this->solve_options_.method);
    n_ = y0.size();
    K_ = this->options_.checkpoint_every;
    step_ends_.clear();
    checkpoints_.reset(n_);
    ForwardRecorder recorder(*this);
    ode::odeint<Scalar>(*this->field_, y0, this->times_, this->solve_options_, ws_, this->solution_,
                        &recorder);
    // The last step lands exactly on the final time, which t + h may miss by rounding.
    if (!step_ends_.empty()) step_ends_.back() = this->times_.back();
    this->stats_.bytes_kept = kept_bytes() + ws_.bytes();
  }
  std::size_t kept_bytes() const {
    return checkpoints_.bytes() + step_ends_.capacity() * sizeof(Scalar);
  }

  // ---- backward ----
  // x(t) inside the replayed segment: locate the step, evaluate its dense output.
  const Scalar* interpolate(Scalar t) {
    const Index steps = segment_.size();
    const Index s = tab_->stages;
    Index lo = 0, hi = steps - 1;
    const int dir = segment_.at(0)[1] > 0 ? 1 : -1;
    while (lo < hi) {  // last step whose start is at or before t (in the direction of time)
      const Index mid = (lo + hi + 1) / 2;
      if (dir * (segment_.at(mid)[0] - t) <= 0)
        lo = mid;
      else
        hi = mid - 1;
    }
    const Scalar* rec = segment_.at(lo);
    const Scalar theta = (t - rec[0]) / rec[1];
    tab_->dense_weights(static_cast<double>(theta), w_.data());
    const Scalar* k = rec + 2 + n_;
    // f(t + h, y1) is the next step's first stage derivative, or the segment's end derivative.
    const Scalar* end = lo + 1 < steps ? segment_.at(lo + 1) + 2 + n_ : f_end_.data();
    ode::detail::dense_output(
        w_.data(), s, rec[1], rec + 2, [&](Index i) { return i < s ? k + i * n_ : end; },
        x_interp_.data(), n_);
    return x_interp_.data();
  }

  void do_backward(ConstMatrixView<Scalar> dl_dys, Gradients<Scalar>& out) override {
    const ode::Solution<Scalar>& sol = this->solution_;
    const Index P = this->field_->num_params(), T = sol.num_times(),
                N = static_cast<Index>(step_ends_.size());
    const Index s = tab_->stages;
    x_interp_.resize(n_);
    f_end_.resize(n_);
    w_.assign(static_cast<std::size_t>(s + 1), 0.0);
    AugmentedDynamics<Scalar> dyn(*this->field_, sol.batch, sol.dim,
                                  [this](Scalar t) { return interpolate(t); });
    const Index Z = dyn.state_size();  // [a]; g is the quadrature, kept in out.params
    ode::SolveOptions opt = backward_options(this->solve_options_, this->options_);
    const std::vector<double>& forward_grid = this->solve_options_.grid;
    Matrix<Scalar> z = Matrix<Scalar>::Zero(1, Z);
    const std::span<Scalar> g(out.params.data(), static_cast<std::size_t>(P));
    for (Index m = 0; m < n_; ++m) z(0, m) = dl_dys(T - 1, m);
    Index next_output = T - 2;  // outputs still to add, from the end
    std::size_t peak = 0;
    // The replay steps exactly the recorded grid; a forward step_size would contradict it.
    ode::SolveOptions replay = this->solve_options_;
    replay.step_size = 0;
    replay.first_step = 0;  // nor would a forward first_step (refused with a grid as well)
    std::vector<Scalar> replay_times(2);
    SegmentRecorder segment_recorder(*this);
    const Index num_segments = (N + K_ - 1) / K_;
    for (Index seg = num_segments - 1; seg >= 0; --seg) {
      const Index first = seg * K_, last = std::min(N, first + K_);  // steps [first, last)
      const Scalar t_start = first == 0 ? t0_ : step_ends_[static_cast<std::size_t>(first - 1)];
      const Scalar t_stop = step_ends_[static_cast<std::size_t>(last - 1)];
      // Replay exactly the recorded steps from the checkpoint.
      replay.grid.assign(1, static_cast<double>(t_start));
      for (Index i = first; i < last; ++i)
        replay.grid.push_back(static_cast<double>(step_ends_[static_cast<std::size_t>(i)]));
      replay_times[0] = t_start;
      replay_times[1] = t_stop;
      segment_.reset(2 + n_ + s * n_);
      ode::odeint<Scalar>(*this->field_,
                          ConstMatrixView<Scalar>(checkpoints_.at(seg), sol.batch, sol.dim),
                          replay_times, replay, replay_ws_, replay_sol_, &segment_recorder);
      this->stats_.nfe_recompute += replay_sol_.stats.nfe;
      this->field_->forward(t_stop, replay_sol_.state(1),
                            MatrixView<Scalar>(f_end_.data(), sol.batch, sol.dim));
      ++this->stats_.nfe_recompute;
      peak = std::max(peak, segment_.bytes());

      // Integrate [a, g] from t_stop to t_start, stopping at every output time in between.
      Scalar t_hi = t_stop;
      while (true) {
        const bool output_inside =
            next_output >= 1 &&
            dir(t_start, t_stop) * (this->times_[static_cast<std::size_t>(next_output)] - t_start) >
                0;
        const Scalar t_lo =
            output_inside ? this->times_[static_cast<std::size_t>(next_output)] : t_start;
        if (t_lo != t_hi) {
          backward_grid(forward_grid, t_hi, t_lo, opt.grid);
          solve_interval<Scalar>(dyn, z, g, t_hi, t_lo, opt, back_ws_, back_sol_, this->stats_);
        }
        if (!output_inside) break;
        for (Index m = 0; m < n_; ++m) z(0, m) += dl_dys(next_output, m);
        --next_output;
        t_hi = t_lo;
      }
    }
    for (; next_output >= 0; --next_output)  // outputs at t0 (only output 0 can remain)
      for (Index m = 0; m < n_; ++m) z(0, m) += dl_dys(next_output, m);
    std::copy(z.data(), z.data() + n_, out.y0.data());
    this->stats_.num_vjp = dyn.num_vjp;
    this->stats_.nfe_backward = dyn.num_vjp + this->stats_.nfe_recompute;
    // back_ws_ holds the only P-sized buffers (the quadrature's; g is the caller's out.params);
    // z, the solution rows and the interpolant add a few n.
    this->stats_.bytes_kept = std::max(
        this->stats_.bytes_kept,
        kept_bytes() + peak + replay_ws_.bytes() + back_ws_.bytes() +
            static_cast<std::size_t>(z.size() + back_sol_.ys.size() + replay_sol_.ys.size() +
                                     x_interp_.size() + f_end_.size() + n_) *
                sizeof(Scalar));
  }
  static int dir(Scalar from, Scalar to) { return to >= from ? 1 : -1; }

  const ode::ButcherTableau* tab_ = nullptr;
  Index n_ = 0, K_ = 1;
  Scalar t0_ = 0;
  std::vector<Scalar> step_ends_;
  Tape<Scalar> checkpoints_, segment_;
  Vector<Scalar> x_interp_, f_end_;
  std::vector<double> w_;
  ode::SolverWorkspace<Scalar> ws_, replay_ws_, back_ws_;
  ode::Solution<Scalar> replay_sol_, back_sol_;
};

}  // namespace

template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_checkpoint(const GradOptions& options) {
  return std::make_unique<Checkpoint<Scalar>>(options);
}
template std::unique_ptr<GradientMethod<float>> make_checkpoint<float>(const GradOptions&);
template std::unique_ptr<GradientMethod<double>> make_checkpoint<double>(const GradOptions&);

}  // namespace neuralode::grad::detail
