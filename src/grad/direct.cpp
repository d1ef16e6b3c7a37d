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

  // Tape record of one step: t, h, where its first stage's record is (FirstStageRecord as a
  // number), the s stage inputs (n = batch*dim each), then, when records are kept, the s stage
  // records (record_size each; slot 0 unused unless the first stage was evaluated in this step).
  static constexpr Index kHeader = 3;

 private:
  void do_forward(ConstMatrixView<Scalar> y0) override {
    const ode::ButcherTableau& tab = ode::find_method(this->solve_options_.method);
    n_ = y0.size();
    stages_ = tab.stages;
    const Index rs = this->field_->record_size(y0.rows());
    const auto step_bytes =
        static_cast<std::size_t>(stages_ * std::max<Index>(rs, 0)) * sizeof(Scalar);
    record_size_ = rs >= 0 && step_bytes <= this->options_.direct_record_step_bytes ? rs : -1;
    tape_.reset(kHeader + stages_ * n_ + stages_ * std::max<Index>(record_size_, 0));
    places_.assign(this->times_.size(), OutputPlace<Scalar>{});
    ode::odeint<Scalar>(*this->field_, y0, this->times_, this->solve_options_, ws_, this->solution_,
                        this);
    tab_ = &tab;
    this->stats_.bytes_kept = tape_.bytes() + places_.size() * sizeof(OutputPlace<Scalar>);
  }

  Scalar* stage_record(Index stage) override {
    if (record_size_ < 0) return nullptr;
    return tape_.next() + kHeader + stages_ * n_ + stage * record_size_;
  }
  void on_step(const ode::AcceptedStep<Scalar>& step) override {
    Scalar* rec = tape_.append();  // the record stage_record filled
    rec[0] = step.t;
    rec[1] = step.h;
    rec[2] = static_cast<Scalar>(static_cast<int>(step.first_stage_record));
    std::copy(step.stage_inputs, step.stage_inputs + stages_ * n_, rec + kHeader);
  }
  // The stage records of tape step `step` into records_ (null where there is none).
  const Scalar* const* stage_records(Index step) {
    if (record_size_ < 0) return nullptr;
    const Index first = kHeader + stages_ * n_;
    Scalar* rec = tape_.at(step);
    for (Index i = 1; i < stages_; ++i)
      records_[static_cast<std::size_t>(i)] = rec + first + i * record_size_;
    switch (static_cast<ode::FirstStageRecord>(static_cast<int>(rec[2]))) {
      case ode::FirstStageRecord::own:
        records_[0] = rec + first;
        break;
      case ode::FirstStageRecord::previous_last:
        records_[0] = tape_.at(step - 1) + first + (stages_ - 1) * record_size_;
        break;
      case ode::FirstStageRecord::none:
        records_[0] = nullptr;
        break;
    }
    return records_.data();
  }
  void on_output(Index o, Index step, Scalar theta) override {
    places_[static_cast<std::size_t>(o)] = {step, theta};
  }

  void do_backward(ConstMatrixView<Scalar> dl_dys, Gradients<Scalar>& out) override {
    const ode::Solution<Scalar>& sol = this->solution_;
    reverser_.resize(*tab_, sol.batch, sol.dim);
    records_.assign(static_cast<std::size_t>(stages_), nullptr);
    Vector<Scalar> ybar = Vector<Scalar>::Zero(n_);
    const Index T = sol.num_times();
    Index next_output = T - 1;  // outputs are in step order
    std::vector<OutputAdjoint<Scalar>> inside;
    for (Index step = tape_.size() - 1; step >= 0; --step) {
      Scalar* rec = tape_.at(step);
      gather_step_outputs(places_, step, dl_dys.data(), n_, next_output, ybar.data(), inside);
      // y1 is the next step's first stage input, or the final output for the last step.
      const Scalar* y1 =
          step + 1 < tape_.size() ? tape_.at(step + 1) + kHeader : sol.state(T - 1).data();
      reverser_.reverse(*this->field_, rec[0], rec[1], rec + kHeader, y1, inside, ybar.data(),
                        out.params.data(), this->stats_.num_vjp, stage_records(step));
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
  Index n_ = 0, stages_ = 0;
  Index record_size_ = -1;  // scalars per stage record; -1: none kept
  std::vector<const Scalar*> records_;
};

}  // namespace

template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_direct(const GradOptions& options) {
  return std::make_unique<Direct<Scalar>>(options);
}
template std::unique_ptr<GradientMethod<float>> make_direct<float>(const GradOptions&);
template std::unique_ptr<GradientMethod<double>> make_direct<double>(const GradOptions&);

}  // namespace neuralode::grad::detail
