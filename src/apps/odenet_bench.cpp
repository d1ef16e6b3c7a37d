// `neuralode bench odenet`: seconds per training iteration of ODE-Net, RK-Net or ResNet; see
// odenet.hpp.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "apps/odenet_common.hpp"
#include "common/text.hpp"
#include "neuralode/apps/odenet.hpp"
#include "neuralode/error.hpp"
#include "neuralode/models/image_classifier_model.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/threads.hpp"
#include "neuralode/train/image_data.hpp"
#include "neuralode/train/optimizer.hpp"
#include "neuralode/train/process_memory.hpp"
#include "neuralode/train/trainer.hpp"
#include "train/memory_budget.hpp"

namespace neuralode::apps {

using namespace neuralode::train;
using namespace odenet_internal;
using neuralode::detail::cat;
using neuralode::detail::num;

OdeNetBenchResult bench_odenet(const OdeNetBenchOptions& b) {
  using Scalar = float;
  constexpr const char* kWhere = "bench odenet";
  const OdeNetOptions& o = b.run;
  o.validate();
  if (b.iters < 1)
    throw InvalidArgument(cat(kWhere, ": --iters = ", b.iters, "; accepted: an integer >= 1"));
  if (b.warmup < 0)
    throw InvalidArgument(cat(kWhere, ": --warmup = ", b.warmup, "; accepted: an integer >= 0"));
  nn::set_num_threads(o.threads);
  OdeNetBenchResult r{
      .model = o.model, .iters = b.iters, .batch_size = o.batch_size, .threads = o.threads};
  ImageSet set;
  // Random pixels when asked for (--data random), or when the default data set is not installed
  // and allow_random_data; an explicitly named directory must be readable.
  std::error_code ec;
  const bool random = o.data == "random" || (o.data == "fashion-mnist" && b.allow_random_data &&
                                             !fs::exists(o.data_dir(), ec));
  if (!random) {
    OdeNetOptions small = o;
    // Enough for every timed batch without reading the whole set (each batch is distinct).
    const double wanted = static_cast<double>(o.batch_size) * (b.iters + b.warmup);
    small.train_size = wanted < 1e9 ? static_cast<Index>(wanted) : Index{1000000000};
    small.test_size = 1;
    // The set may be smaller than train_size: then the batches repeat (epochs), which is fine.
    const fs::path dir = existing_data_dir(small, kWhere);
    auto d = load_mnist_style(dir, small.train_size, 1);
    set = std::move(d.train);
    if (set.count < o.batch_size)
      throw InvalidArgument(cat(kWhere, ": --batch-size = ", o.batch_size,
                                " but the training set in ", dir, " has only ", set.count,
                                " images; accepted: a batch size up to the set's size (or --data "
                                "random)"));
    r.data = dir.string();
  } else {
    // Uniform random pixels and labels: the timing of the layers does not depend on the images,
    // though the solver's NFE does a little.
    set.count = o.batch_size, set.height = 28, set.width = 28;
    neuralode::detail::require_memory(
        kWhere, cat(o.batch_size, " random 28x28 images (--batch-size)"),
        static_cast<double>(o.batch_size) * 28 * 28 * sizeof(float), "use a smaller --batch-size");
    nn::Rng rng(o.seed);
    set.pixels.resize(static_cast<std::size_t>(set.count * 28 * 28));
    for (float& p : set.pixels) p = static_cast<float>(rng.uniform());
    for (Index i = 0; i < set.count; ++i) set.labels.push_back(static_cast<std::uint8_t>(i % 10));
    r.data = "random";
  }
  const models::ImageClassifierOptions mo = classifier_options(o, set);
  require_batch_fits(kWhere, mo, o.batch_size);
  r.grad = mo.effective_grad();
  models::ImageClassifier<Scalar> model(mo);
  model.init(o.seed);
  Sgd<Scalar> optimizer({.lr = o.lr, .momentum = o.momentum});
  ImageBatcher batcher(set, {.batch_size = o.batch_size, .shuffle = false, .augment = false});
  models::ImageClassifierModel<Scalar> net(model);
  models::ImageBatch batch;
  Matrix<float>& x = batch.x;
  std::vector<int>& labels = batch.labels;
  // The trainer's own step (loss and gradient, its finite checks, the optimizer), without its
  // loop, files and display: the benchmark times the work of a training iteration.
  Trainer<Scalar, models::ImageBatch> trainer(TrainerOptions{}, net, optimizer, std::clog);
  models::BatchLoss loss;
  std::optional<Divergence> diverged;
  const auto step = [&] { diverged = trainer.step(batch, loss); };
  const auto what_diverged = [&]() -> std::string {
    switch (*diverged) {
      case Divergence::loss:
        return cat("the training loss became ", num(loss.loss));
      case Divergence::gradient:
        return "the gradient became non-finite (NaN or Inf)";
      case Divergence::parameters:
        return "the parameters became non-finite (NaN or Inf) after the SGD step";
    }
    return "";
  };
  double seconds = 0, nfe_f = 0, nfe_b = 0;
  std::uint64_t epoch = 0;
  for (int i = 0; i < b.warmup + b.iters; ++i) {
    if (!batcher.next(x, labels) || x.rows() != o.batch_size) {
      batcher.start_epoch(epoch++);
      batcher.next(x, labels);
    }
    const auto t0 = Clock::now();
    try {
      step();
    } catch (const SolveError& e) {
      throw SolveError(cat(kWhere, ": iteration ", i + 1, ": ", e.what(),
                           "; training may have diverged: lower --lr (now ", num(o.lr), ")"));
    } catch (const InvalidArgument& e) {
      throw Error(cat(kWhere, ": iteration ", i + 1, ": ", e.what(),
                      "; training may have diverged: lower --lr (now ", num(o.lr), ")"));
    }
    if (diverged)
      throw Error(cat(kWhere, ": iteration ", i + 1, ": training diverged: ", what_diverged(),
                      "; the timing would be of NaN arithmetic: lower --lr (now ", num(o.lr), ")"));
    if (i >= b.warmup) {
      seconds += seconds_since(t0);
      nfe_f += static_cast<double>(model.last_nfe_forward());
      nfe_b += static_cast<double>(model.last_nfe_backward());
    }
  }
  r.seconds_per_iter = seconds / b.iters;
  r.nfe_forward = nfe_f / b.iters;
  r.nfe_backward = nfe_b / b.iters;
  r.peak_rss_bytes = peak_rss_bytes();
  return r;
}

}  // namespace neuralode::apps
