// Model: what a training loop needs of anything it trains (issue 13). One flat parameter vector
// with named views, a loss with its gradient over a batch, and the NFE of that call. The trainer
// (train::Trainer), the optimizers, checkpoints and a distributed all-reduce all work on the flat
// vector, so a new model (latent ODE, CNF) is a class implementing this and a small application.
//
//   struct MyBatch { Matrix<float> x; std::vector<int> labels; };
//   class MyModel : public models::Model<float, MyBatch> { ... };
//   train::Trainer<float, MyBatch> trainer(options, model, optimizer, log);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "neuralode/nn/layer.hpp"  // nn::ParamView
#include "neuralode/types.hpp"

namespace neuralode::models {

// The result of one loss evaluation over a batch.
struct BatchLoss {
  // The loss as the model defines it (a mean over the batch, so batches of different sizes
  // compare), computed in double from Scalar values.
  double loss = 0;
  // Rows (samples) the loss averages over; weights a mean over several batches.
  Index samples = 0;
  // Classifiers: rows predicted right; -1 for models that do not classify.
  Index correct = -1;
};

// Evaluations of the model's vector field in its last loss_and_gradient call, forward and
// backward (-1 before any call). For a model without a solve, the number of layer evaluations
// that stand in for them (ResNet: its residual blocks).
struct NfeReport {
  std::int64_t forward = -1;
  std::int64_t backward = -1;
};

// Scalar: float or double. Batch: the model's own batch type (images and labels, windows of a
// trajectory, masked irregular series), filled by the application's data source.
template <class Scalar, class Batch>
class Model {
 public:
  using batch_type = Batch;
  virtual ~Model() = default;

  // The flat parameter vector (every layer, in order; the model owns it) and its named views,
  // whose offsets index into it. Checkpoints store the views under their names.
  virtual std::span<Scalar> params() = 0;
  virtual const std::vector<nn::ParamView>& param_views() const = 0;
  Index num_params() { return static_cast<Index>(params().size()); }

  // The loss over `batch` and, into `grad` (num_params() values, overwritten), dL/dtheta. When
  // the loss is not finite the backward pass is not run and `grad` is left unspecified: the
  // caller stops (a diverging run), and a backward pass through NaN would only fail later with a
  // less useful message. Errors of the solves (SolveError) propagate, prefixed with which pass
  // failed ("forward solve: ", "backward pass: ") where the model has more than one.
  virtual BatchLoss loss_and_gradient(const Batch& batch, std::span<Scalar> grad) = 0;

  // The NFE of the last loss_and_gradient call.
  virtual NfeReport last_nfe() const = 0;
};

}  // namespace neuralode::models
