// Direct: backpropagation through the solver's discrete steps (discretise-then-optimise). The
// forward solve records each accepted step's time, step size and stage inputs (one state per
// stage); the backward pass reverses the steps with the same tableau. Exact for the computation the
// solver did, with accepted step sizes held constant. Memory grows linearly with the steps.
#include <algorithm>

#include "grad/methods.hpp"
#include "grad/step_reverser.hpp"
#include "grad/tape.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "neuralode/ode/odeint.hpp"

namespace neuralode::grad::detail {

namespace {

template <class Scalar>
class Direct final : public GradientMethod<Scalar>, ode::StepObserver<Scalar> {
 public:
  using Base = GradientMethod<Scalar>;
  explicit Direct(const GradOptions& options) : Base(options) {}

  // Bytes the tape keeps for N steps of an s-stage method on n = batch*dim components:
  // N * (s*n + 2) scalars (stage inputs, t, h). Public so the memory tests can predict it.
  static std::size_t tape_bytes(Index steps, Index stages, Index n) {
    return static_cast<std::size_t>(steps * (stages * n + 2)) * sizeof(Scalar);
  }

 private:
  void do_forward(ConstMatrixView<Scalar> y0) override {
    const ode::ButcherTableau& tab = ode::find_method(this->solve_options_.method);
    n_ = y0.size();
    tape_.reset(tab.stages * n_ + 2);
    places_.assign(this->times_.size(), OutputPlace<Scalar>{});
    ode::odeint<Scalar>(*this->field_, y0, this->times_, this->solve_options_, ws_, this->solution_,
                        this);
    tab_ = &tab;
    this->stats_.bytes_kept = tape_.bytes() + places_.size() * sizeof(OutputPlace<Scalar>);
  }

  void on_step(const ode::AcceptedStep<Scalar>& step) override {
    Scalar* rec = tape_.append();
    rec[0] = step.t;
    rec[1] = step.h;
    std::copy(step.stage_inputs, step.stage_inputs + step.tableau->stages * n_, rec + 2);
  }
  void on_output(Index o, Index step, Scalar theta) override {
    places_[static_cast<std::size_t>(o)] = {step, theta};
  }

  void do_backward(ConstMatrixView<Scalar> dl_dys, Gradients<Scalar>& out) override {
    const ode::Solution<Scalar>& sol = this->solution_;
    reverser_.resize(*tab_, sol.batch, sol.dim);
    Vector<Scalar> ybar = Vector<Scalar>::Zero(n_);
    const Index T = sol.num_times();
    Index next_output = T - 1;  // outputs are in step order
    std::vector<OutputAdjoint<Scalar>> inside;
    for (Index step = tape_.size() - 1; step >= 0; --step) {
      Scalar* rec = tape_.at(step);
      gather_step_outputs(places_, step, dl_dys.data(), n_, next_output, ybar.data(), inside);
      // y1 is the next step's first stage input, or the final output for the last step.
      const Scalar* y1 = step + 1 < tape_.size() ? tape_.at(step + 1) + 2 : sol.state(T - 1).data();
      reverser_.reverse(*this->field_, rec[0], rec[1], rec + 2, y1, inside, ybar.data(),
                        out.params.data(), this->stats_.num_vjp);
    }
    for (Index m = 0; m < n_; ++m) ybar[m] += dl_dys(0, m);
    std::copy(ybar.data(), ybar.data() + n_, out.y0.data());
    this->stats_.nfe_backward = this->stats_.num_vjp;
    this->stats_.backward_accepted = tape_.size();
    this->stats_.bytes_kept += reverser_.bytes();
  }

  ode::SolverWorkspace<Scalar> ws_;
  Tape<Scalar> tape_;
  std::vector<OutputPlace<Scalar>> places_;
  StepReverser<Scalar> reverser_;
  const ode::ButcherTableau* tab_ = nullptr;
  Index n_ = 0;
};

}  // namespace

template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_direct(const GradOptions& options) {
  return std::make_unique<Direct<Scalar>>(options);
}
template std::unique_ptr<GradientMethod<float>> make_direct<float>(const GradOptions&);
template std::unique_ptr<GradientMethod<double>> make_direct<double>(const GradOptions&);

}  // namespace neuralode::grad::detail
