// SGD, RMSprop, Adam and AdamW on the flat parameter vector, written from torch.optim's algorithm
// pseudo-code and its single-tensor code path (torch/optim/{sgd,rmsprop,adam}.py), with its order
// of operations (bias corrections in double, then sqrt(v)/sqrt(bc2) + eps) so float results stay
// within a few ulps of PyTorch's. Moving averages use the mul_/add_ form a*m + (1 - a)*g; PyTorch
// >= 2.0 writes them as lerp_, which differs by rounding only. The registry that picks one by name.
#include "neuralode/train/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::train {

using neuralode::detail::cat;
using neuralode::detail::num;

namespace {

// PyTorch's own checks (ValueError "Invalid ... value"), with our message shape.
void require_at_least(const char* where, const char* field, double value, double low) {
  if (!(value >= low) || !std::isfinite(value))
    throw InvalidArgument(
        cat(where, ": ", field, " = ", num(value), " must be finite and >= ", num(low)));
}
void require_unit_interval(const char* where, const char* field, double value) {
  if (!(value >= 0 && value < 1))
    throw InvalidArgument(cat(where, ": ", field, " = ", num(value), " must be in [0, 1)"));
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out.empty() ? "(none)" : out;
}

}  // namespace

// ---- options ------------------------------------------------------------------------------------

void SgdOptions::validate() const {
  require_at_least("SgdOptions", "lr", lr, 0);
  require_at_least("SgdOptions", "momentum", momentum, 0);
  require_at_least("SgdOptions", "dampening", dampening, 0);
  require_at_least("SgdOptions", "weight_decay", weight_decay, 0);
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw InvalidArgument(
        cat("SgdOptions: nesterov = true needs momentum > 0 and dampening = 0; got "
            "momentum = ",
            num(momentum), ", dampening = ", num(dampening)));
}

void RmsPropOptions::validate() const {
  require_at_least("RmsPropOptions", "lr", lr, 0);
  require_at_least("RmsPropOptions", "alpha", alpha, 0);
  require_at_least("RmsPropOptions", "eps", eps, 0);
  require_at_least("RmsPropOptions", "weight_decay", weight_decay, 0);
  require_at_least("RmsPropOptions", "momentum", momentum, 0);
}

void AdamOptions::validate() const {
  require_at_least("AdamOptions", "lr", lr, 0);
  require_unit_interval("AdamOptions", "beta1", beta1);
  require_unit_interval("AdamOptions", "beta2", beta2);
  require_at_least("AdamOptions", "eps", eps, 0);
  require_at_least("AdamOptions", "weight_decay", weight_decay, 0);
}

void AdamWOptions::validate() const {
  require_at_least("AdamWOptions", "lr", lr, 0);
  require_unit_interval("AdamWOptions", "beta1", beta1);
  require_unit_interval("AdamWOptions", "beta2", beta2);
  require_at_least("AdamWOptions", "eps", eps, 0);
  require_at_least("AdamWOptions", "weight_decay", weight_decay, 0);
}

// ---- the base -----------------------------------------------------------------------------------

template <class Scalar>
Optimizer<Scalar>::Optimizer(double lr) : lr_(lr) {}

template <class Scalar>
void Optimizer<Scalar>::set_learning_rate(double lr) {
  require_at_least(cat(name(), ".set_learning_rate").c_str(), "lr", lr, 0);
  lr_ = lr;
}

template <class Scalar>
void Optimizer<Scalar>::begin_step(std::span<Scalar> params, std::span<const Scalar> grads) {
  const auto n = static_cast<std::int64_t>(params.size());
  if (grads.size() != params.size())
    throw InvalidArgument(cat(name(), ".step: grads has ", grads.size(), " entries but params has ",
                              params.size(), "; both must have the flat parameter layout"));
  if (sized_ && n != n_)
    throw InvalidArgument(cat(name(), ".step: params has ", n,
                              " entries but this optimizer's state", " was made for ", n_,
                              "; use one optimizer per parameter vector, or a fresh one"));
  if (!sized_) {
    for (const auto& b : buffer_names()) buffer(b)->assign(static_cast<std::size_t>(n), Scalar(0));
    n_ = n;
    sized_ = true;
  }
  ++num_steps_;
}

template <class Scalar>
OptimizerState<Scalar> Optimizer<Scalar>::state() const {
  OptimizerState<Scalar> s;
  s.optimizer = name();
  s.num_steps = num_steps_;
  s.learning_rate = lr_;
  if (num_steps_ > 0)
    for (const auto& b : buffer_names()) s.buffers[b] = *buffer(b);
  return s;
}

template <class Scalar>
void Optimizer<Scalar>::load_state(const OptimizerState<Scalar>& s) {
  const std::string where = cat(name(), ".load_state");
  if (s.optimizer != name())
    throw InvalidArgument(cat(where, ": the state is of optimizer '", s.optimizer, "', not '",
                              name(), "'; make the optimizer the state was saved from"));
  if (s.num_steps < 0)
    throw InvalidArgument(cat(where, ": num_steps = ", s.num_steps, " must be >= 0"));
  if (!(s.learning_rate >= 0) || !std::isfinite(s.learning_rate))
    throw InvalidArgument(
        cat(where, ": learning_rate = ", num(s.learning_rate), " must be finite and >= 0"));
  const auto names = buffer_names();
  for (const auto& [b, v] : s.buffers)
    if (std::find(names.begin(), names.end(), b) == names.end())
      throw InvalidArgument(cat(where, ": unknown buffer '", b, "'; with these options ", name(),
                                " keeps: ", join(names),
                                " (were its options, e.g. momentum or amsgrad, different?)"));
  std::int64_t n = -1;
  if (s.num_steps > 0) {
    for (const auto& b : names) {
      auto it = s.buffers.find(b);
      if (it == s.buffers.end())
        throw InvalidArgument(cat(where, ": buffer '", b, "' is missing after ", s.num_steps,
                                  " steps; with these options ", name(), " keeps: ", join(names)));
      const auto len = static_cast<std::int64_t>(it->second.size());
      if (n >= 0 && len != n)
        throw InvalidArgument(cat(where, ": buffer '", b, "' has ", len, " entries but the others ",
                                  n, "; every buffer has the parameter vector's length"));
      n = len;
    }
  }
  // Checked everything; now commit.
  num_steps_ = s.num_steps;
  lr_ = s.learning_rate;
  if (n >= 0) {
    for (const auto& b : names) *buffer(b) = s.buffers.at(b);
    n_ = n;
    sized_ = true;
  } else {
    for (const auto& b : names) buffer(b)->clear();
    n_ = 0;
    sized_ = false;
  }
}

// ---- SGD ----------------------------------------------------------------------------------------

template <class Scalar>
Sgd<Scalar>::Sgd(const SgdOptions& options) : Optimizer<Scalar>(options.lr), options_(options) {
  options_.validate();
}

template <class Scalar>
std::vector<std::string> Sgd<Scalar>::buffer_names() const {
  if (options_.momentum != 0) return {"momentum_buffer"};
  return {};
}

template <class Scalar>
std::vector<Scalar>* Sgd<Scalar>::buffer(std::string_view name) {
  return name == "momentum_buffer" ? &momentum_buffer_ : nullptr;
}

template <class Scalar>
void Sgd<Scalar>::step(std::span<Scalar> params, std::span<const Scalar> grads) {
  this->begin_step(params, grads);
  const std::size_t n = params.size();
  const Scalar lr = Scalar(this->lr_), wd = Scalar(options_.weight_decay);
  const Scalar mu = Scalar(options_.momentum), keep = Scalar(1 - options_.dampening);
  // PyTorch creates the buffer as a copy of the first (decayed) gradient, undampened.
  const bool first = this->num_steps_ == 1;
  for (std::size_t i = 0; i < n; ++i) {
    Scalar g = grads[i];
    if (options_.weight_decay != 0) g = g + wd * params[i];
    if (options_.momentum != 0) {
      Scalar& b = momentum_buffer_[i];
      b = first ? g : mu * b + keep * g;
      g = options_.nesterov ? g + mu * b : b;
    }
    params[i] -= lr * g;
  }
}

// ---- RMSprop ------------------------------------------------------------------------------------

template <class Scalar>
RmsProp<Scalar>::RmsProp(const RmsPropOptions& options)
    : Optimizer<Scalar>(options.lr), options_(options) {
  options_.validate();
}

template <class Scalar>
std::vector<std::string> RmsProp<Scalar>::buffer_names() const {
  std::vector<std::string> names{"square_avg"};
  if (options_.momentum > 0) names.push_back("momentum_buffer");
  if (options_.centered) names.push_back("grad_avg");
  return names;
}

template <class Scalar>
std::vector<Scalar>* RmsProp<Scalar>::buffer(std::string_view name) {
  if (name == "square_avg") return &square_avg_;
  if (name == "momentum_buffer") return &momentum_buffer_;
  if (name == "grad_avg") return &grad_avg_;
  return nullptr;
}

template <class Scalar>
void RmsProp<Scalar>::step(std::span<Scalar> params, std::span<const Scalar> grads) {
  this->begin_step(params, grads);
  const std::size_t n = params.size();
  const Scalar lr = Scalar(this->lr_), wd = Scalar(options_.weight_decay);
  const Scalar alpha = Scalar(options_.alpha), one_minus_alpha = Scalar(1 - options_.alpha);
  const Scalar eps = Scalar(options_.eps), mu = Scalar(options_.momentum);
  for (std::size_t i = 0; i < n; ++i) {
    Scalar g = grads[i];
    if (options_.weight_decay != 0) g = g + wd * params[i];
    Scalar& v = square_avg_[i];
    v = alpha * v + one_minus_alpha * g * g;
    Scalar avg;
    if (options_.centered) {
      Scalar& ga = grad_avg_[i];
      ga = alpha * ga + one_minus_alpha * g;
      avg = std::sqrt(v - ga * ga) + eps;
    } else {
      avg = std::sqrt(v) + eps;
    }
    if (options_.momentum > 0) {
      Scalar& b = momentum_buffer_[i];
      b = mu * b + g / avg;
      params[i] -= lr * b;
    } else {
      params[i] -= lr * (g / avg);
    }
  }
}

// ---- Adam and AdamW -----------------------------------------------------------------------------

template <class Scalar>
Adam<Scalar>::Adam(const AdamOptions& options) : Adam(options, false) {}

template <class Scalar>
Adam<Scalar>::Adam(const AdamOptions& options, bool decoupled)
    : Optimizer<Scalar>(options.lr), options_(options), decoupled_(decoupled) {
  options_.validate();
}

namespace {
AdamOptions as_adam(const AdamWOptions& o) {
  o.validate();  // names AdamWOptions in its messages
  return AdamOptions{.lr = o.lr,
                     .beta1 = o.beta1,
                     .beta2 = o.beta2,
                     .eps = o.eps,
                     .weight_decay = o.weight_decay,
                     .amsgrad = o.amsgrad};
}
}  // namespace

template <class Scalar>
AdamW<Scalar>::AdamW(const AdamWOptions& options) : Adam<Scalar>(as_adam(options), true) {}

template <class Scalar>
std::vector<std::string> Adam<Scalar>::buffer_names() const {
  std::vector<std::string> names{"exp_avg", "exp_avg_sq"};
  if (options_.amsgrad) names.push_back("max_exp_avg_sq");
  return names;
}

template <class Scalar>
std::vector<Scalar>* Adam<Scalar>::buffer(std::string_view name) {
  if (name == "exp_avg") return &exp_avg_;
  if (name == "exp_avg_sq") return &exp_avg_sq_;
  if (name == "max_exp_avg_sq") return &max_exp_avg_sq_;
  return nullptr;
}

template <class Scalar>
void Adam<Scalar>::step(std::span<Scalar> params, std::span<const Scalar> grads) {
  this->begin_step(params, grads);
  const std::size_t n = params.size();
  const double t = static_cast<double>(this->num_steps_);
  // Bias corrections in double, as PyTorch computes them in Python floats, then one rounding each.
  const double bias_correction1 = 1 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1 - std::pow(options_.beta2, t);
  const Scalar step_size = Scalar(this->lr_ / bias_correction1);
  const Scalar bias_correction2_sqrt = Scalar(std::sqrt(bias_correction2));
  const Scalar beta1 = Scalar(options_.beta1), one_minus_beta1 = Scalar(1 - options_.beta1);
  const Scalar beta2 = Scalar(options_.beta2), one_minus_beta2 = Scalar(1 - options_.beta2);
  const Scalar eps = Scalar(options_.eps), wd = Scalar(options_.weight_decay);
  const Scalar decay = Scalar(1 - this->lr_ * options_.weight_decay);  // AdamW's shrink factor
  for (std::size_t i = 0; i < n; ++i) {
    Scalar g = grads[i];
    if (options_.weight_decay != 0) {
      if (decoupled_)
        params[i] *= decay;
      else
        g = g + wd * params[i];
    }
    Scalar& m = exp_avg_[i];
    Scalar& v = exp_avg_sq_[i];
    m = beta1 * m + one_minus_beta1 * g;
    v = beta2 * v + one_minus_beta2 * g * g;
    Scalar v_used = v;
    if (options_.amsgrad) {
      max_exp_avg_sq_[i] = std::max(max_exp_avg_sq_[i], v);
      v_used = max_exp_avg_sq_[i];
    }
    const Scalar denom = std::sqrt(v_used) / bias_correction2_sqrt + eps;
    params[i] -= step_size * (m / denom);
  }
}

// ---- the registry -------------------------------------------------------------------------------

namespace {

// Which OptimizerOptions fields each optimizer has; used to reject the others by name.
struct Field {
  const char* name;
  bool set;
};
std::vector<Field> fields_of(const OptimizerOptions& o) {
  return {{"lr", o.lr.has_value()},
          {"weight_decay", o.weight_decay.has_value()},
          {"momentum", o.momentum.has_value()},
          {"dampening", o.dampening.has_value()},
          {"nesterov", o.nesterov.has_value()},
          {"alpha", o.alpha.has_value()},
          {"centered", o.centered.has_value()},
          {"eps", o.eps.has_value()},
          {"beta1", o.beta1.has_value()},
          {"beta2", o.beta2.has_value()},
          {"amsgrad", o.amsgrad.has_value()}};
}

template <class Scalar>
struct Entry {
  const char* name;
  std::vector<std::string> fields;  // the OptimizerOptions fields it takes
  std::function<std::unique_ptr<Optimizer<Scalar>>(const OptimizerOptions&)> make;
};

// Adam and AdamW take the same fields (only the meaning of weight_decay differs).
template <class Scalar, class Options, template <class> class Method>
std::unique_ptr<Optimizer<Scalar>> make_adam_family(const OptimizerOptions& o) {
  Options s;
  s.lr = o.lr.value_or(s.lr);
  s.weight_decay = o.weight_decay.value_or(s.weight_decay);
  s.eps = o.eps.value_or(s.eps);
  s.beta1 = o.beta1.value_or(s.beta1);
  s.beta2 = o.beta2.value_or(s.beta2);
  s.amsgrad = o.amsgrad.value_or(s.amsgrad);
  return std::unique_ptr<Optimizer<Scalar>>(new Method<Scalar>(s));
}

template <class Scalar>
const std::vector<Entry<Scalar>>& registry() {
  static const std::vector<Entry<Scalar>> entries = {
      {"sgd",
       {"lr", "weight_decay", "momentum", "dampening", "nesterov"},
       [](const OptimizerOptions& o) {
         SgdOptions s;
         s.lr = o.lr.value_or(s.lr);
         s.weight_decay = o.weight_decay.value_or(s.weight_decay);
         s.momentum = o.momentum.value_or(s.momentum);
         s.dampening = o.dampening.value_or(s.dampening);
         s.nesterov = o.nesterov.value_or(s.nesterov);
         return std::unique_ptr<Optimizer<Scalar>>(new Sgd<Scalar>(s));
       }},
      {"rmsprop",
       {"lr", "weight_decay", "momentum", "alpha", "centered", "eps"},
       [](const OptimizerOptions& o) {
         RmsPropOptions s;
         s.lr = o.lr.value_or(s.lr);
         s.weight_decay = o.weight_decay.value_or(s.weight_decay);
         s.momentum = o.momentum.value_or(s.momentum);
         s.alpha = o.alpha.value_or(s.alpha);
         s.centered = o.centered.value_or(s.centered);
         s.eps = o.eps.value_or(s.eps);
         return std::unique_ptr<Optimizer<Scalar>>(new RmsProp<Scalar>(s));
       }},
      {"adam",
       {"lr", "weight_decay", "eps", "beta1", "beta2", "amsgrad"},
       &make_adam_family<Scalar, AdamOptions, Adam>},
      {"adamw",
       {"lr", "weight_decay", "eps", "beta1", "beta2", "amsgrad"},
       &make_adam_family<Scalar, AdamWOptions, AdamW>},
  };
  return entries;
}

}  // namespace

std::string optimizer_names() {
  std::vector<std::string> names;
  for (const auto& e : registry<double>()) names.emplace_back(e.name);
  return join(names);
}

template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> make_optimizer(std::string_view name,
                                                  const OptimizerOptions& options) {
  for (const auto& e : registry<Scalar>()) {
    if (name != e.name) continue;
    for (const auto& f : fields_of(options))
      if (f.set && std::find(e.fields.begin(), e.fields.end(), f.name) == e.fields.end())
        throw InvalidArgument(cat("make_optimizer: optimizer '", name, "' has no hyperparameter '",
                                  f.name, "'; it takes: ", join(e.fields)));
    return e.make(options);
  }
  throw InvalidArgument(cat("unknown optimizer '", name, "'; accepted: ", optimizer_names()));
}

template class Optimizer<float>;
template class Optimizer<double>;
template class Sgd<float>;
template class Sgd<double>;
template class RmsProp<float>;
template class RmsProp<double>;
template class Adam<float>;
template class Adam<double>;
template class AdamW<float>;
template class AdamW<double>;
template std::unique_ptr<Optimizer<float>> make_optimizer<float>(std::string_view,
                                                                 const OptimizerOptions&);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(std::string_view,
                                                                   const OptimizerOptions&);

}  // namespace neuralode::train
