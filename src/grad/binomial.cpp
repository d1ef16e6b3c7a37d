// Binomial: the exact discrete gradient of Direct with logarithmic checkpointing. The forward solve
// keeps only the step boundaries (one scalar per step) and where each output fell. The backward
// pass reverses the steps by recursive bisection: to reverse steps [lo, hi) from the state at lo,
// advance to the midpoint, store that state, reverse [mid, hi), then reverse [lo, mid). With
// ceil(log2 N) + 1 stored states this costs about (N/2) log2 N recomputed steps (Griewank &
// Walther, "Evaluating Derivatives", ch. 12; diffrax's default adjoint uses the same idea).
// Replays run on exactly the recorded step boundaries, so the gradient equals Direct's to rounding.
#include <algorithm>
#include <cmath>

#include "grad/methods.hpp"
#include "grad/step_reverser.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "neuralode/ode/odeint.hpp"

namespace neuralode::grad::detail {

namespace {

template <class Scalar>
class Binomial final : public GradientMethod<Scalar> {
 public:
  using Base = GradientMethod<Scalar>;
  explicit Binomial(const GradOptions& options) : Base(options) {}

 private:
  // The forward solve's observer: each step's start time and where each output fell.
  struct ForwardRecorder final : ode::StepObserver<Scalar> {
    explicit ForwardRecorder(Binomial& b) : b(b) {}
    void on_step(const ode::AcceptedStep<Scalar>& step) override { b.starts_.push_back(step.t); }
    void on_output(Index o, Index step, Scalar theta) override {
      b.places_[static_cast<std::size_t>(o)] = {step, theta};
    }
    Binomial& b;
  };
  // A single-step replay's observer: the step's stage inputs, for the reverse pass.
  struct StageCapture final : ode::StepObserver<Scalar> {
    explicit StageCapture(Binomial& b) : b(b) {}
    void on_step(const ode::AcceptedStep<Scalar>& step) override {
      std::copy(step.stage_inputs, step.stage_inputs + b.tab_->stages * b.n_, b.stages_.data());
    }
    Binomial& b;
  };
  // A replay over a range of steps keeps nothing, but is observed all the same: the workspace
  // then stays sized for kept stage inputs, so replays of both kinds share it without resizing.
  struct NoCapture final : ode::StepObserver<Scalar> {
    void on_step(const ode::AcceptedStep<Scalar>&) override {}
  };

  void do_forward(ConstMatrixView<Scalar> y0) override {
    tab_ = &ode::find_method(this->solve_options_.method);
    n_ = y0.size();
    starts_.clear();
    places_.assign(this->times_.size(), OutputPlace<Scalar>{});
    ForwardRecorder recorder(*this);
    ode::odeint<Scalar>(*this->field_, y0, this->times_, this->solve_options_, ws_, this->solution_,
                        &recorder);
    starts_.push_back(this->times_.back());  // the end of the last step, exactly
    this->stats_.bytes_kept = forward_bytes() + ws_.bytes();
  }
  std::size_t forward_bytes() const {
    return starts_.capacity() * sizeof(Scalar) + places_.capacity() * sizeof(OutputPlace<Scalar>);
  }

  // Advances `from` (the state at the start of step lo) over steps [lo, hi) into `to`, shown to
  // `observer` (StageCapture for a single step that is about to be reversed, else NoCapture).
  void replay(Index lo, Index hi, const Scalar* from, Scalar* to,
              ode::StepObserver<Scalar>& observer) {
    replay_opts_.grid.assign(starts_.begin() + lo, starts_.begin() + hi + 1);
    replay_times_[0] = starts_[static_cast<std::size_t>(lo)];
    replay_times_[1] = starts_[static_cast<std::size_t>(hi)];
    const auto& sol = this->solution_;
    ode::odeint<Scalar>(*this->field_, ConstMatrixView<Scalar>(from, sol.batch, sol.dim),
                        replay_times_, replay_opts_, replay_ws_, replay_sol_, &observer);
    this->stats_.nfe_recompute += replay_sol_.stats.nfe;
    std::copy(replay_sol_.state(1).data(), replay_sol_.state(1).data() + n_, to);
  }

  void reverse_step(Index step, const Scalar* y_start) {
    StageCapture capture(*this);
    replay(step, step + 1, y_start, y_end_.data(), capture);  // fills stages_
    gather_step_outputs(places_, step, dl_dys_->data(), n_, next_output_, ybar_.data(), inside_);
    reverser_.reverse(
        *this->field_, starts_[static_cast<std::size_t>(step)],
        starts_[static_cast<std::size_t>(step + 1)] - starts_[static_cast<std::size_t>(step)],
        stages_.data(), y_end_.data(), inside_, ybar_.data(), params_bar_, this->stats_.num_vjp);
    ++this->stats_.backward_accepted;
  }

  // Reverses steps [lo, hi) given the state at lo, stored in snapshot `depth`.
  void reverse_range(Index lo, Index hi, Index depth) {
    const Scalar* y_lo = snapshots_.row(depth).data();
    if (hi - lo == 1) return reverse_step(lo, y_lo);
    if (depth + 1 < snapshots_.rows() - 1) {  // one row is kept as scratch for the fallback
      const Index mid = lo + (hi - lo) / 2;
      NoCapture none;
      replay(lo, mid, y_lo, snapshots_.row(depth + 1).data(), none);
      used_snapshots_ = std::max(used_snapshots_, depth + 2);
      reverse_range(mid, hi, depth + 1);
      reverse_range(lo, mid, depth);
      return;
    }
    // Out of snapshots: replay from y_lo to every step, last first (quadratic in hi - lo).
    Scalar* scratch = snapshots_.row(snapshots_.rows() - 1).data();
    for (Index step = hi - 1; step >= lo; --step) {
      if (step == lo) {
        reverse_step(lo, y_lo);
      } else {
        NoCapture none;
        replay(lo, step, y_lo, scratch, none);
        reverse_step(step, scratch);
      }
    }
    used_snapshots_ = snapshots_.rows();
  }

  void do_backward(ConstMatrixView<Scalar> dl_dys, Gradients<Scalar>& out) override {
    const auto& sol = this->solution_;
    const Index N = static_cast<Index>(starts_.size()) - 1;
    const Index T = sol.num_times();
    reverser_.resize(*tab_, sol.batch, sol.dim);
    replay_opts_ = this->solve_options_;
    replay_opts_.step_size = 0;   // the replay steps exactly the recorded grid (set per replay)
    replay_opts_.first_step = 0;  // and has no first step to choose (refused with a grid)
    replay_times_.assign(2, Scalar(0));
    stages_.resize(tab_->stages * n_);
    y_end_.resize(n_);
    ybar_ = Vector<Scalar>::Zero(n_);
    const Index automatic = static_cast<Index>(std::ceil(std::log2(std::max<Index>(N, 1)))) + 2;
    const Index rows =
        this->options_.binomial_snapshots > 0 ? this->options_.binomial_snapshots + 1 : automatic;
    snapshots_.resize(std::max<Index>(rows, 2), n_);
    std::copy(sol.state(0).data(), sol.state(0).data() + n_, snapshots_.row(0).data());
    used_snapshots_ = 1;
    dl_dys_ = &dl_dys;
    params_bar_ = out.params.data();
    next_output_ = T - 1;
    if (N > 0) reverse_range(0, N, 0);
    for (Index m = 0; m < n_; ++m) ybar_[m] += dl_dys(0, m);
    std::copy(ybar_.data(), ybar_.data() + n_, out.y0.data());
    this->stats_.nfe_backward = this->stats_.num_vjp + this->stats_.nfe_recompute;
    const std::size_t snapshot_bytes =
        static_cast<std::size_t>(used_snapshots_ * n_) * sizeof(Scalar);
    this->stats_.bytes_kept =
        std::max(this->stats_.bytes_kept,
                 forward_bytes() + snapshot_bytes + reverser_.bytes() +
                     static_cast<std::size_t>(stages_.size() + y_end_.size()) * sizeof(Scalar) +
                     replay_ws_.bytes());
  }

  const ode::ButcherTableau* tab_ = nullptr;
  Index n_ = 0;
  std::vector<Scalar> starts_;  // step i runs from starts_[i] to starts_[i + 1]
  std::vector<OutputPlace<Scalar>> places_;
  Matrix<Scalar> snapshots_;
  Index used_snapshots_ = 0;
  Vector<Scalar> stages_, y_end_, ybar_;
  std::vector<OutputAdjoint<Scalar>> inside_;
  StepReverser<Scalar> reverser_;
  const ConstMatrixView<Scalar>* dl_dys_ = nullptr;
  Scalar* params_bar_ = nullptr;
  Index next_output_ = 0;
  ode::SolveOptions replay_opts_;
  std::vector<Scalar> replay_times_;
  ode::SolverWorkspace<Scalar> ws_, replay_ws_;
  ode::Solution<Scalar> replay_sol_;
};

}  // namespace

template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_binomial(const GradOptions& options) {
  return std::make_unique<Binomial<Scalar>>(options);
}
template std::unique_ptr<GradientMethod<float>> make_binomial<float>(const GradOptions&);
template std::unique_ptr<GradientMethod<double>> make_binomial<double>(const GradOptions&);

}  // namespace neuralode::grad::detail
