// Optimizers on the flat parameter vector: SGD (momentum, Nesterov, weight decay), RMSprop, Adam
// and AdamW with PyTorch's update formulas, defaults and state names (torch.optim), so a run here
// and the same run in PyTorch can be compared step by step. A registry chooses one by name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace neuralode::train {

// What an optimizer carries from one step to the next, as named flat vectors (for checkpoints).
// Buffer names are PyTorch's state keys ("momentum_buffer", "exp_avg", ...); each buffer has the
// layout of the parameter vector. A buffer PyTorch has not created yet (SGD's momentum buffer
// before the first step) is absent.
template <class Scalar>
struct OptimizerState {
  std::string optimizer;       // name() of the optimizer that exported it: "adam"
  std::int64_t num_steps = 0;  // step() calls so far: Adam's t in its bias corrections
  double learning_rate = 0;    // the learning rate at export (a schedule may have changed it)
  std::map<std::string, std::vector<Scalar>> buffers;
};

// Contract shared by every optimizer:
// - step(params, grads) updates params in place from grads (both the flat layout, same length).
//   The first step fixes the length and allocates the state buffers; later steps allocate nothing
//   and throw InvalidArgument if the length changes. grads is not modified.
// - Hyperparameters are doubles (as PyTorch keeps them as Python floats); the arithmetic on the
//   vectors is in Scalar.
// - state()/load_state() round-trip exactly: an optimizer loaded from another's state continues
//   bit for bit as the other would have.
template <class Scalar>
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  virtual std::string name() const = 0;  // the registry word: "sgd", "rmsprop", "adam", "adamw"
  virtual void step(std::span<Scalar> params, std::span<const Scalar> grads) = 0;

  double learning_rate() const { return lr_; }
  // For schedules: takes effect at the next step(). Throws InvalidArgument unless lr >= 0, finite.
  void set_learning_rate(double lr);
  std::int64_t num_steps() const { return num_steps_; }
  // Length fixed by the first step() or by load_state() of a state with buffers; 0 before.
  std::int64_t num_params() const { return n_; }

  OptimizerState<Scalar> state() const;
  // Throws InvalidArgument when the state is another optimizer's, names a buffer this one does
  // not have (the message lists those it has), lacks one it needs, or has buffers of unequal
  // length.
  void load_state(const OptimizerState<Scalar>& state);

 protected:
  explicit Optimizer(double lr);
  // Buffer names this optimizer keeps with its current options; all exist once a step was taken.
  virtual std::vector<std::string> buffer_names() const = 0;
  virtual std::vector<Scalar>* buffer(std::string_view name) = 0;
  const std::vector<Scalar>* buffer(std::string_view name) const {
    return const_cast<Optimizer*>(this)->buffer(name);
  }
  // Checks lengths, sizes the buffers (zeros) on the first call, and counts the step.
  void begin_step(std::span<Scalar> params, std::span<const Scalar> grads);

  double lr_;
  std::int64_t num_steps_ = 0;
  std::int64_t n_ = 0;
  bool sized_ = false;  // buffers have length n_
};

// ---- SGD ----------------------------------------------------------------------------------------
// torch.optim.SGD: g <- g + weight_decay*p; with momentum, b <- g on the first step and
// b <- momentum*b + (1 - dampening)*g after; g <- g + momentum*b (nesterov) or g <- b; p <- p -
// lr*g.
struct SgdOptions {
  // Step size. PyTorch 2.x defaults to 1e-3 (earlier versions required it); a good value depends
  // on the loss's scale, so set it: 1e-2..1e-1 is common with momentum 0.9.
  double lr = 1e-3;
  // Heavy-ball coefficient mu in [0, 1); 0 is plain SGD. 0.9 is the usual choice; it averages
  // about 1/(1 - mu) recent gradients and multiplies the effective step by as much.
  double momentum = 0;
  // Fraction tau of each new gradient left out of the momentum buffer; 0 keeps all of it.
  double dampening = 0;
  // L2 penalty lambda added to the gradient (lambda*p), so it also enters the momentum.
  double weight_decay = 0;
  // Nesterov's look-ahead (Sutskever et al. 2013 form as PyTorch writes it). Needs momentum > 0
  // and dampening = 0, as PyTorch requires.
  bool nesterov = false;
  void validate() const;  // throws InvalidArgument naming the field, its value and the range
};

template <class Scalar>
class Sgd final : public Optimizer<Scalar> {
 public:
  explicit Sgd(const SgdOptions& options = {});
  std::string name() const override { return "sgd"; }
  void step(std::span<Scalar> params, std::span<const Scalar> grads) override;
  const SgdOptions& options() const { return options_; }

 private:
  std::vector<std::string> buffer_names() const override;
  std::vector<Scalar>* buffer(std::string_view name) override;
  SgdOptions options_;
  std::vector<Scalar> momentum_buffer_;
};

// ---- RMSprop ------------------------------------------------------------------------------------
// torch.optim.RMSprop: v <- alpha*v + (1 - alpha)*g^2; centered: ga <- alpha*ga + (1 - alpha)*g and
// v~ = v - ga^2; d = sqrt(v~) + eps (eps outside the square root, unlike TensorFlow); with momentum
// b <- momentum*b + g/d and p <- p - lr*b, otherwise p <- p - lr*g/d.
struct RmsPropOptions {
  // Step size; PyTorch's default 1e-2.
  double lr = 1e-2;
  // Decay of the running average of g^2, in [0, 1); 0.99 averages about the last 100 gradients.
  double alpha = 0.99;
  // Added to sqrt(v) (outside the root): bounds the step where v is tiny.
  double eps = 1e-8;
  // L2 penalty lambda added to the gradient.
  double weight_decay = 0;
  // Momentum on the normalised step, >= 0 (buffer starts at zero, unlike SGD's).
  double momentum = 0;
  // Normalise by an estimate of the gradient's variance instead of its second moment (Graves
  // 2013); one more buffer.
  bool centered = false;
  void validate() const;
};

template <class Scalar>
class RmsProp final : public Optimizer<Scalar> {
 public:
  explicit RmsProp(const RmsPropOptions& options = {});
  std::string name() const override { return "rmsprop"; }
  void step(std::span<Scalar> params, std::span<const Scalar> grads) override;
  const RmsPropOptions& options() const { return options_; }

 private:
  std::vector<std::string> buffer_names() const override;
  std::vector<Scalar>* buffer(std::string_view name) override;
  RmsPropOptions options_;
  std::vector<Scalar> square_avg_, momentum_buffer_, grad_avg_;
};

// ---- Adam and AdamW -----------------------------------------------------------------------------
// torch.optim.Adam / AdamW: m <- beta1*m + (1 - beta1)*g, v <- beta2*v + (1 - beta2)*g^2,
// p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps). Adam adds
// weight_decay*p to g (L2); AdamW instead first shrinks p <- p*(1 - lr*weight_decay) (decoupled,
// Loshchilov & Hutter 2019). AMSGrad keeps vmax <- max(vmax, v) and uses it in place of v (the raw
// v, as PyTorch's code does; its documentation's pseudo-code takes the max of the corrected v).
struct AdamOptions {
  // Step size; PyTorch's default 1e-3. While |m/sqrt(v)| ~ 1 each parameter moves about lr per
  // step (exactly lr*sign(g) on the first step when eps is negligible).
  double lr = 1e-3;
  // Decays of the first and second moment averages, each in [0, 1).
  double beta1 = 0.9;
  double beta2 = 0.999;
  // Added to the bias-corrected sqrt(v): bounds the step where gradients are tiny.
  double eps = 1e-8;
  // L2 penalty lambda added to the gradient (so Adam's normalisation rescales it; see AdamW).
  double weight_decay = 0;
  // AMSGrad variant (Reddi et al. 2018): the denominator never decreases. One more buffer.
  bool amsgrad = false;
  void validate() const;
};

struct AdamWOptions {
  double lr = 1e-3;  // as AdamOptions
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  // Decoupled decay: each step multiplies p by (1 - lr*weight_decay) before the Adam update.
  // PyTorch's AdamW default 1e-2.
  double weight_decay = 1e-2;
  bool amsgrad = false;
  void validate() const;
};

template <class Scalar>
class Adam : public Optimizer<Scalar> {
 public:
  explicit Adam(const AdamOptions& options = {});
  std::string name() const override { return decoupled_ ? "adamw" : "adam"; }
  void step(std::span<Scalar> params, std::span<const Scalar> grads) override;
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(const AdamOptions& options, bool decoupled);

 private:
  std::vector<std::string> buffer_names() const override;
  std::vector<Scalar>* buffer(std::string_view name) override;
  AdamOptions options_;
  bool decoupled_;
  std::vector<Scalar> exp_avg_, exp_avg_sq_, max_exp_avg_sq_;
};

template <class Scalar>
class AdamW final : public Adam<Scalar> {
 public:
  explicit AdamW(const AdamWOptions& options = {});
};

// ---- choosing by name ---------------------------------------------------------------------------
// The union of the optimizers' hyperparameters, for choosing an optimizer by a word (the CLI, a
// run's configuration file). A field left unset takes the named optimizer's PyTorch default (lr
// 1e-3 for sgd/adam/adamw and 1e-2 for rmsprop; weight_decay 1e-2 for adamw, 0 otherwise); a field
// set for an optimizer that has no such hyperparameter is an error naming both.
struct OptimizerOptions {
  std::optional<double> lr;            // all
  std::optional<double> weight_decay;  // all
  std::optional<double> momentum;      // sgd, rmsprop
  std::optional<double> dampening;     // sgd
  std::optional<bool> nesterov;        // sgd
  std::optional<double> alpha;         // rmsprop
  std::optional<bool> centered;        // rmsprop
  std::optional<double> eps;           // rmsprop, adam, adamw
  std::optional<double> beta1;         // adam, adamw
  std::optional<double> beta2;         // adam, adamw
  std::optional<bool> amsgrad;         // adam, adamw
};

// "sgd, rmsprop, adam, adamw": the registry's words, for help texts and error messages.
std::string optimizer_names();

// Throws InvalidArgument for an unknown name (listing the accepted ones), a field the optimizer
// does not have, or a value out of range.
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> make_optimizer(std::string_view name,
                                                  const OptimizerOptions& options = {});

extern template class Optimizer<float>;
extern template class Optimizer<double>;
extern template class Sgd<float>;
extern template class Sgd<double>;
extern template class RmsProp<float>;
extern template class RmsProp<double>;
extern template class Adam<float>;
extern template class Adam<double>;
extern template class AdamW<float>;
extern template class AdamW<double>;
extern template std::unique_ptr<Optimizer<float>> make_optimizer<float>(std::string_view,
                                                                        const OptimizerOptions&);
extern template std::unique_ptr<Optimizer<double>> make_optimizer<double>(std::string_view,
                                                                          const OptimizerOptions&);

}  // namespace neuralode::train
