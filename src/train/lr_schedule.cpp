// The closed forms of PyTorch's StepLR, MultiStepLR and CosineAnnealingLR (their
// _get_closed_form_lr methods), and the registry that picks one by name.
#include "neuralode/train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::train {

using neuralode::detail::cat;
using neuralode::detail::num;

namespace {

void check_epoch(const LrSchedule& s, std::int64_t epoch) {
  if (epoch < 0)
    throw InvalidArgument(cat(s.name(), " schedule: lr_at(", epoch, "): the epoch must be >= 0"));
}

void check_gamma(const char* where, double gamma) {
  if (!(gamma >= 0) || !std::isfinite(gamma))
    throw InvalidArgument(cat(where, ": gamma = ", num(gamma), " must be finite and >= 0"));
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

}  // namespace

LrSchedule::LrSchedule(double base_lr) : base_lr_(base_lr) {
  if (!(base_lr >= 0) || !std::isfinite(base_lr))
    throw InvalidArgument(cat("LrSchedule: base_lr = ", num(base_lr), " must be finite and >= 0"));
}

double ConstantLr::lr_at(std::int64_t epoch) const {
  check_epoch(*this, epoch);
  return base_lr_;
}

// ---- StepLR -------------------------------------------------------------------------------------

void StepLrOptions::validate() const {
  if (step_size < 1)
    throw InvalidArgument(cat("StepLrOptions: step_size = ", step_size,
                              " must be >= 1 (epochs between decays; it has no default)"));
  check_gamma("StepLrOptions", gamma);
}

StepLr::StepLr(double base_lr, const StepLrOptions& options)
    : LrSchedule(base_lr), options_(options) {
  options_.validate();
}

double StepLr::lr_at(std::int64_t epoch) const {
  check_epoch(*this, epoch);
  return base_lr_ * std::pow(options_.gamma, static_cast<double>(epoch / options_.step_size));
}

// ---- MultiStepLR --------------------------------------------------------------------------------

void MultiStepLrOptions::validate() const {
  if (milestones.empty())
    throw InvalidArgument(
        "MultiStepLrOptions: milestones is empty; give the epochs at which to decay (no default)");
  for (std::size_t i = 0; i < milestones.size(); ++i)
    if (milestones[i] < 0)
      throw InvalidArgument(
          cat("MultiStepLrOptions: milestones[", i, "] = ", milestones[i], " must be >= 0"));
  check_gamma("MultiStepLrOptions", gamma);
}

MultiStepLr::MultiStepLr(double base_lr, const MultiStepLrOptions& options)
    : LrSchedule(base_lr), options_(options) {
  options_.validate();
  std::sort(options_.milestones.begin(), options_.milestones.end());
}

double MultiStepLr::lr_at(std::int64_t epoch) const {
  check_epoch(*this, epoch);
  // bisect_right: milestones <= epoch have been passed.
  const auto passed =
      std::upper_bound(options_.milestones.begin(), options_.milestones.end(), epoch) -
      options_.milestones.begin();
  return base_lr_ * std::pow(options_.gamma, static_cast<double>(passed));
}

// ---- CosineAnnealingLR --------------------------------------------------------------------------

void CosineAnnealingLrOptions::validate() const {
  if (t_max < 1)
    throw InvalidArgument(cat("CosineAnnealingLrOptions: t_max = ", t_max,
                              " must be >= 1 (half-period in epochs, usually the run's length; "
                              "it has no default)"));
  if (!(eta_min >= 0) || !std::isfinite(eta_min))
    throw InvalidArgument(
        cat("CosineAnnealingLrOptions: eta_min = ", num(eta_min), " must be finite and >= 0"));
}

CosineAnnealingLr::CosineAnnealingLr(double base_lr, const CosineAnnealingLrOptions& options)
    : LrSchedule(base_lr), options_(options) {
  options_.validate();
}

double CosineAnnealingLr::lr_at(std::int64_t epoch) const {
  check_epoch(*this, epoch);
  const double phase =
      std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(options_.t_max);
  return options_.eta_min + (base_lr_ - options_.eta_min) * (1 + std::cos(phase)) / 2;
}

// ---- the registry -------------------------------------------------------------------------------

namespace {

struct Entry {
  const char* name;
  std::vector<std::string> fields;
  std::function<std::unique_ptr<LrSchedule>(double, const LrScheduleOptions&)> make;
};

template <class T>
T required(const std::optional<T>& v, const char* schedule, const char* field) {
  if (!v)
    throw InvalidArgument(
        cat("make_lr_schedule: schedule '", schedule, "' needs ", field, " (it has no default)"));
  return *v;
}

const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = {
      {"none",
       {},
       [](double lr, const LrScheduleOptions&) -> std::unique_ptr<LrSchedule> {
         return std::make_unique<ConstantLr>(lr);
       }},
      {"step",
       {"step_size", "gamma"},
       [](double lr, const LrScheduleOptions& o) -> std::unique_ptr<LrSchedule> {
         StepLrOptions s;
         s.step_size = required(o.step_size, "step", "step_size");
         s.gamma = o.gamma.value_or(s.gamma);
         return std::make_unique<StepLr>(lr, s);
       }},
      {"multistep",
       {"milestones", "gamma"},
       [](double lr, const LrScheduleOptions& o) -> std::unique_ptr<LrSchedule> {
         MultiStepLrOptions s;
         s.milestones = required(o.milestones, "multistep", "milestones");
         s.gamma = o.gamma.value_or(s.gamma);
         return std::make_unique<MultiStepLr>(lr, s);
       }},
      {"cosine",
       {"t_max", "eta_min"},
       [](double lr, const LrScheduleOptions& o) -> std::unique_ptr<LrSchedule> {
         CosineAnnealingLrOptions s;
         s.t_max = required(o.t_max, "cosine", "t_max");
         s.eta_min = o.eta_min.value_or(s.eta_min);
         return std::make_unique<CosineAnnealingLr>(lr, s);
       }},
  };
  return entries;
}

}  // namespace

std::string lr_schedule_names() {
  std::vector<std::string> names;
  for (const auto& e : registry()) names.emplace_back(e.name);
  return join(names);
}

std::unique_ptr<LrSchedule> make_lr_schedule(std::string_view name, double base_lr,
                                             const LrScheduleOptions& options) {
  const std::pair<const char*, bool> set[] = {{"step_size", options.step_size.has_value()},
                                              {"milestones", options.milestones.has_value()},
                                              {"gamma", options.gamma.has_value()},
                                              {"t_max", options.t_max.has_value()},
                                              {"eta_min", options.eta_min.has_value()}};
  for (const auto& e : registry()) {
    if (name != e.name) continue;
    for (const auto& [field, is_set] : set)
      if (is_set && std::find(e.fields.begin(), e.fields.end(), field) == e.fields.end())
        throw InvalidArgument(cat("make_lr_schedule: schedule '", name, "' has no setting '", field,
                                  "'; it takes: ", e.fields.empty() ? "(none)" : join(e.fields)));
    return e.make(base_lr, options);
  }
  throw InvalidArgument(
      cat("unknown learning-rate schedule '", name, "'; accepted: ", lr_schedule_names()));
}

}  // namespace neuralode::train
