// Learning-rate schedules: PyTorch's StepLR, MultiStepLR and CosineAnnealingLR in their closed
// forms, as a pure function of the epoch (or iteration) count, so a resumed run recomputes the
// learning rate from the iteration in its checkpoint instead of storing scheduler state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neuralode::train {

// Contract: lr_at(e) is the learning rate to use for epoch (or iteration, whichever the caller
// counts) e >= 0, where e = 0 is the first; it depends on e and the options only. A typical loop:
// optimizer.set_learning_rate(schedule.lr_at(iteration)); optimizer.step(...).
// lr_at throws InvalidArgument for e < 0.
class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual std::string name() const = 0;  // the registry word: "none", "step", "multistep", "cosine"
  virtual double lr_at(std::int64_t epoch) const = 0;
  double base_lr() const { return base_lr_; }

 protected:
  explicit LrSchedule(double base_lr);  // throws unless base_lr >= 0, finite
  double base_lr_;
};

// lr = base_lr for every epoch (no schedule).
class ConstantLr final : public LrSchedule {
 public:
  explicit ConstantLr(double base_lr) : LrSchedule(base_lr) {}
  std::string name() const override { return "none"; }
  double lr_at(std::int64_t epoch) const override;
};

// torch.optim.lr_scheduler.StepLR: lr = base_lr * gamma^floor(epoch / step_size).
struct StepLrOptions {
  // Epochs between decays. No default, as in PyTorch: it depends on the run's length (a common
  // choice is a third of it). 0 = unset, rejected by validate().
  std::int64_t step_size = 0;
  // Factor applied at each decay; 0.1 (PyTorch's default) is one decade per step.
  double gamma = 0.1;
  void validate() const;
};

class StepLr final : public LrSchedule {
 public:
  StepLr(double base_lr, const StepLrOptions& options);
  std::string name() const override { return "step"; }
  double lr_at(std::int64_t epoch) const override;

 private:
  StepLrOptions options_;
};

// torch.optim.lr_scheduler.MultiStepLR: lr = base_lr * gamma^(number of milestones <= epoch). A
// milestone listed twice decays twice, as PyTorch's Counter of milestones does.
struct MultiStepLrOptions {
  // Epochs at which the rate is multiplied by gamma, each >= 0 (any order; sorted here). No
  // default: they depend on the run's length (e.g. at 50% and 75% of it).
  std::vector<std::int64_t> milestones;
  // Factor applied at each milestone; PyTorch's default 0.1.
  double gamma = 0.1;
  void validate() const;
};

class MultiStepLr final : public LrSchedule {
 public:
  MultiStepLr(double base_lr, const MultiStepLrOptions& options);
  std::string name() const override { return "multistep"; }
  double lr_at(std::int64_t epoch) const override;

 private:
  MultiStepLrOptions options_;  // milestones sorted
};

// torch.optim.lr_scheduler.CosineAnnealingLR, closed form (Loshchilov & Hutter 2017, SGDR eq. 5
// without restarts): lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2.
// Past t_max the cosine continues (rises again over the next t_max epochs), as PyTorch's does.
struct CosineAnnealingLrOptions {
  // Half-period in epochs: lr reaches eta_min at epoch t_max (PyTorch's T_max). No default: usually
  // the run's length. 0 = unset, rejected by validate().
  std::int64_t t_max = 0;
  // Floor of the learning rate, >= 0; PyTorch's default 0.
  double eta_min = 0;
  void validate() const;
};

class CosineAnnealingLr final : public LrSchedule {
 public:
  CosineAnnealingLr(double base_lr, const CosineAnnealingLrOptions& options);
  std::string name() const override { return "cosine"; }
  double lr_at(std::int64_t epoch) const override;

 private:
  CosineAnnealingLrOptions options_;
};

// ---- choosing by name ---------------------------------------------------------------------------
// The union of the schedules' settings, for choosing one by a word. Unset fields take the named
// schedule's default; a required one left unset (step_size, milestones, t_max) or a field the
// schedule does not have is an error naming it.
struct LrScheduleOptions {
  std::optional<std::int64_t> step_size;                // step
  std::optional<std::vector<std::int64_t>> milestones;  // multistep
  std::optional<double> gamma;                          // step, multistep
  std::optional<std::int64_t> t_max;                    // cosine
  std::optional<double> eta_min;                        // cosine
};

// "none, step, multistep, cosine".
std::string lr_schedule_names();

// Throws InvalidArgument for an unknown name (listing the accepted ones), a missing required
// setting, a setting the schedule does not have, or a value out of range.
std::unique_ptr<LrSchedule> make_lr_schedule(std::string_view name, double base_lr,
                                             const LrScheduleOptions& options = {});

}  // namespace neuralode::train
