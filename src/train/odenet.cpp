// Training ODE-Net, RK-Net and ResNet on MNIST-style images; see odenet.hpp. The loop follows
// torchdiffeq's examples/odenet_mnist.py: SGD(momentum 0.9), lr 0.1 * batch / 128 with tenfold
// drops at 60/100/140 of 160 epochs, cross-entropy, evaluation on the test set after each epoch.
#include "neuralode/train/odenet.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "metric_columns.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/models/cross_entropy.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/threads.hpp"
#include "neuralode/ode.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "neuralode/train/figure.hpp"
#include "neuralode/train/image_data.hpp"
#include "neuralode/train/lr_schedule.hpp"
#include "neuralode/train/metrics_log.hpp"
#include "neuralode/train/optimizer.hpp"
#include "neuralode/train/process_memory.hpp"
#include "neuralode/train/progress.hpp"

namespace neuralode::train {

using detail::cat;
using detail::num;

namespace {

constexpr const char* kEpochKey = "epoch";
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

models::ImageClassifierOptions classifier_options(const OdeNetOptions& o, const ImageSet& data) {
  return {.model = o.model,
          .image_height = data.height,
          .image_width = data.width,
          .num_classes = data.num_classes,
          .method = o.method,
          .tol = o.tol,
          .grad = o.grad};
}

nlohmann::json config_json(const OdeNetOptions& o, const models::ImageClassifierOptions& m,
                           Index num_params) {
  return {{"model", o.model},
          {"method", o.method},
          {"tol", o.tol},
          {"grad", o.model == "resnet" ? "direct" : m.effective_grad()},
          {"data", o.data_dir().string()},
          {"augment", o.augment},
          {"train_size", o.train_size},
          {"test_size", o.test_size},
          {"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"lr", o.lr},
          {"momentum", o.momentum},
          {"seed", o.seed},
          {"threads", o.threads},
          {"num_params", num_params},
          {"optimizer", "sgd"}};
}

// One SGD step on a batch: forward, cross-entropy and its gradient, backward, optimizer. Shared by
// training and the benchmark so that both time the same work; buffers are kept between steps.
template <class Scalar>
struct TrainStep {
  Matrix<Scalar> logits, dlogits;
  std::vector<Scalar> grads;

  models::ClassificationResult operator()(models::ImageClassifier<Scalar>& model,
                                          Optimizer<Scalar>& optimizer, const Matrix<float>& x,
                                          const std::vector<int>& labels) {
    logits.resize(x.rows(), model.num_classes());
    dlogits.resize(x.rows(), model.num_classes());
    grads.resize(static_cast<std::size_t>(model.num_params()));
    model.forward(ConstMatrixView<Scalar>(x.data(), x.rows(), x.cols()),
                  MatrixView<Scalar>(logits.data(), logits.rows(), logits.cols()));
    MatrixView<Scalar> dv(dlogits.data(), dlogits.rows(), dlogits.cols());
    const auto r = models::softmax_cross_entropy<Scalar>(
        ConstMatrixView<Scalar>(logits.data(), logits.rows(), logits.cols()), labels, &dv);
    model.backward(ConstMatrixView<Scalar>(dlogits.data(), dlogits.rows(), dlogits.cols()), grads);
    optimizer.step(model.params(), grads);
    return r;
  }
};

struct Evaluation {
  double loss = 0, accuracy = 0;
};

template <class Scalar>
Evaluation evaluate(models::ImageClassifier<Scalar>& model, const ImageSet& set, Index batch) {
  ImageBatcher batcher(set, {.batch_size = batch, .shuffle = false, .augment = false});
  batcher.start_epoch(0);
  Matrix<float> x;
  std::vector<int> labels;
  Matrix<Scalar> logits;
  double loss = 0;
  Index correct = 0, seen = 0;
  model.set_training(false);
  while (batcher.next(x, labels)) {
    logits.resize(x.rows(), model.num_classes());
    model.forward(ConstMatrixView<Scalar>(x.data(), x.rows(), x.cols()),
                  MatrixView<Scalar>(logits.data(), logits.rows(), logits.cols()));
    const auto r = models::softmax_cross_entropy<Scalar>(
        ConstMatrixView<Scalar>(logits.data(), logits.rows(), logits.cols()), labels);
    loss += r.loss * static_cast<double>(x.rows());
    correct += r.correct;
    seen += x.rows();
  }
  model.set_training(true);
  return {loss / static_cast<double>(seen), static_cast<double>(correct) / seen};
}

void write_training_figure(const OdeNetOptions& o, const std::filesystem::path& path) {
  auto c = detail::read_metric_columns(
      o.out / "metrics.jsonl", "epoch",
      {"epoch", "train_loss", "test_loss", "test_accuracy", "nfe_forward", "nfe_backward"});
  if (c["epoch"].empty()) return;
  for (double& a : c["test_accuracy"]) a *= 100.0;
  Figure fig(FigureOptions{.width_px = 1500,
                           .height_px = 420,
                           .rows = 1,
                           .cols = 3,
                           .title = "Training " + o.model + " on " + o.data});
  fig.panel(0, 0)
      .set_title("Loss")
      .set_xlabel("epoch")
      .set_ylabel("cross-entropy")
      .set_log_y()
      .line(c["epoch"], c["train_loss"], {.label = "train (epoch mean)"})
      .line(c["epoch"], c["test_loss"], {.label = "test"});
  fig.panel(0, 1)
      .set_title("Test accuracy")
      .set_xlabel("epoch")
      .set_ylabel("%")
      .line(c["epoch"], c["test_accuracy"], {.label = "test accuracy"});
  fig.panel(0, 2)
      .set_title("Function evaluations per iteration")
      .set_xlabel("epoch")
      .set_ylabel("NFE")
      .line(c["epoch"], c["nfe_forward"], {.label = "forward"})
      .line(c["epoch"], c["nfe_backward"], {.label = "backward"});
  fig.save(path);
}

ImageData load_data(const OdeNetOptions& o) {
  ImageData d = load_mnist_style(o.data_dir());
  if (o.train_size > 0 && o.train_size < d.train.count) d.train = head(d.train, o.train_size);
  if (o.test_size > 0 && o.test_size < d.test.count) d.test = head(d.test, o.test_size);
  return d;
}

}  // namespace

void OdeNetOptions::validate() const {
  auto positive = [](const char* name, double v) {
    if (!(v > 0)) throw InvalidArgument(cat("odenet: --", name, " = ", num(v), " must be > 0"));
  };
  positive("epochs", epochs);
  positive("batch-size", static_cast<double>(batch_size));
  positive("lr", lr);
  positive("threads", threads);
  positive("tol", tol);
  if (!(momentum >= 0 && momentum < 1))
    throw InvalidArgument(cat("odenet: momentum = ", num(momentum), " must be in [0, 1)"));
  if (stop_after < 0) throw InvalidArgument("odenet: --stop-after must be >= 0 (0 = never)");
  if (train_size < 0 || test_size < 0)
    throw InvalidArgument("odenet: --train-size and --test-size must be >= 0 (0 = all)");
  models::ImageClassifierOptions m{.model = model, .method = method, .tol = tol, .grad = grad};
  m.validate();
  ode::SolveOptions s;
  s.method = method;
  s.rtol = s.atol = tol;
  s.validate();
}

std::filesystem::path OdeNetOptions::data_dir() const {
  return data == "fashion-mnist" ? std::filesystem::path(kFashionMnistDir)
                                 : std::filesystem::path(data);
}

std::vector<std::int64_t> OdeNetOptions::lr_milestones(std::int64_t batches_per_epoch) const {
  std::vector<std::int64_t> m;
  for (int e : {60, 100, 140})
    m.push_back(static_cast<std::int64_t>(std::llround(static_cast<double>(epochs) * e / 160.0 *
                                                       static_cast<double>(batches_per_epoch))));
  return m;
}

OdeNetResult train_odenet(const OdeNetOptions& o, std::ostream& log) {
  using Scalar = float;
  o.validate();
  nn::set_num_threads(o.threads);
  std::filesystem::create_directories(o.out);
  const ImageData data = load_data(o);
  const models::ImageClassifierOptions mo = classifier_options(o, data.train);
  models::ImageClassifier<Scalar> model(mo);
  OdeNetResult result;
  result.num_params = model.num_params();
  if (!o.quiet) log << model.describe() << "\n";

  ImageBatcher batcher(
      data.train,
      {.batch_size = o.batch_size, .shuffle = true, .augment = o.augment, .seed = o.seed});
  const std::int64_t bpe = batcher.batches_per_epoch();
  const double base_lr = o.lr * static_cast<double>(o.batch_size) / 128.0;
  const MultiStepLr schedule(base_lr, {.milestones = o.lr_milestones(bpe), .gamma = 0.1});
  Sgd<Scalar> optimizer({.lr = base_lr, .momentum = o.momentum});

  const std::filesystem::path ckpt_path = o.out / "checkpoint.safetensors";
  const std::string config = config_json(o, mo, model.num_params()).dump(2);
  int start_epoch = 0;
  if (o.resume) {
    const Checkpoint ck = read_checkpoint(ckpt_path);
    get_params<Scalar>(ck, model.param_views(), model.params());
    optimizer.load_state(get_optimizer_state<Scalar>(ck));
    const auto it = ck.metadata.find(kEpochKey);
    if (it == ck.metadata.end())
      throw IoError(cat(ckpt_path.string(), ": no '", kEpochKey, "' in the metadata"));
    start_epoch = std::stoi(it->second);
    if (start_epoch > o.epochs)
      throw InvalidArgument(
          cat("odenet: the checkpoint is at epoch ", start_epoch, ", past --epochs = ", o.epochs));
  } else {
    model.init(o.seed);
  }
  detail::write_file_atomically(o.out / "config.json", config + "\n", "odenet: cannot write");
  const std::int64_t start_iteration = start_epoch * bpe;
  MetricsLog metrics(o.out / "metrics.jsonl",
                     {.append = o.resume, .drop_after_iteration = o.resume ? start_iteration : -1});
  result.metrics = metrics.path();

  Progress progress(static_cast<std::int64_t>(o.epochs) * bpe, log, !o.quiet && is_terminal(log),
                    ProgressOptions{.start_iteration = start_iteration});
  Matrix<float> x;
  std::vector<int> labels;
  TrainStep<Scalar> step;
  std::int64_t iteration = start_iteration;

  const int last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;
  for (int epoch = start_epoch + 1; epoch <= last_epoch; ++epoch) {
    batcher.start_epoch(static_cast<std::uint64_t>(epoch - 1));
    double loss_sum = 0, nfe_f = 0, nfe_b = 0, train_seconds = 0;
    Index correct = 0, seen = 0, batches = 0;
    while (true) {
      const auto t0 = Clock::now();
      if (!batcher.next(x, labels)) break;
      ++iteration;
      optimizer.set_learning_rate(schedule.lr_at(iteration - 1));
      const auto r = step(model, optimizer, x, labels);
      train_seconds += seconds_since(t0);
      loss_sum += r.loss * static_cast<double>(x.rows());
      correct += r.correct;
      seen += x.rows();
      ++batches;
      nfe_f += static_cast<double>(model.last_nfe_forward());
      nfe_b += static_cast<double>(model.last_nfe_backward());
      if (!std::isfinite(r.loss))
        throw Error(cat("odenet: the training loss became ", num(r.loss), " at iteration ",
                        iteration, " (epoch ", epoch, "); lower --lr or --tol, or check the data"));
      if (!o.quiet)
        progress.update(iteration, r.loss, model.last_nfe_forward(), model.last_nfe_backward());
    }
    const Evaluation test = evaluate(model, data.test, o.batch_size);
    OdeNetEpoch e{.epoch = epoch,
                  .train_loss = loss_sum / static_cast<double>(seen),
                  .train_accuracy = static_cast<double>(correct) / static_cast<double>(seen),
                  .test_loss = test.loss,
                  .test_accuracy = test.accuracy,
                  .nfe_forward = nfe_f / static_cast<double>(batches),
                  .nfe_backward = nfe_b / static_cast<double>(batches),
                  .seconds = train_seconds,
                  .peak_rss_bytes = peak_rss_bytes()};
    result.epochs.push_back(e);
    MetricsRecord rec;
    rec.add("epoch", epoch)
        .add("iteration", iteration)
        .add("train_loss", e.train_loss)
        .add("train_accuracy", e.train_accuracy)
        .add("test_loss", e.test_loss)
        .add("test_accuracy", e.test_accuracy)
        .add("test_error", 1.0 - e.test_accuracy)
        .add("nfe_forward", e.nfe_forward)
        .add("nfe_backward", e.nfe_backward)
        .add("seconds", e.seconds)
        .add("peak_rss_bytes", static_cast<std::int64_t>(e.peak_rss_bytes))
        .add("lr", schedule.lr_at(iteration - 1));
    metrics.write(rec);
    if (!o.quiet) {
      std::ostringstream line;
      line << std::fixed << std::setprecision(4) << "epoch " << epoch << "/" << o.epochs
           << "  train loss " << e.train_loss << "  test accuracy " << std::setprecision(2)
           << 100 * e.test_accuracy << " %  nfe " << std::setprecision(1) << e.nfe_forward << "/"
           << e.nfe_backward << "  " << std::setprecision(1) << e.seconds << " s  peak "
           << static_cast<double>(e.peak_rss_bytes) / (1 << 20) << " MiB";
      if (is_terminal(log)) log << "\n";
      log << line.str() << "\n";
    }
    Checkpoint ck;
    put_params<Scalar>(ck, model.param_views(), model.params());
    put_optimizer_state<Scalar>(ck, optimizer.state());
    put_iteration(ck, iteration);
    ck.metadata[kEpochKey] = std::to_string(epoch);
    ck.metadata[kConfigKey] = config;
    write_checkpoint(ckpt_path, ck);
    result.checkpoint = ckpt_path;
  }
  if (!o.quiet) progress.finish();
  if (o.figures) {
    result.training_figure = o.out / "training.png";
    write_training_figure(o, result.training_figure);
  }
  return result;
}

OdeNetBenchResult bench_odenet(const OdeNetBenchOptions& b) {
  using Scalar = float;
  const OdeNetOptions& o = b.run;
  o.validate();
  if (b.iters < 1 || b.warmup < 0)
    throw InvalidArgument("bench odenet: --iters must be >= 1 and the warm-up >= 0");
  nn::set_num_threads(o.threads);
  OdeNetBenchResult r{
      .model = o.model, .iters = b.iters, .batch_size = o.batch_size, .threads = o.threads};
  ImageSet set;
  const bool random = o.data == "random";
  const bool have_data = !random && std::filesystem::exists(o.data_dir());
  if (have_data) {
    OdeNetOptions small = o;
    small.train_size = o.batch_size * (b.iters + b.warmup);
    small.test_size = 1;
    set = load_data(small).train;
    r.data = o.data_dir().string();
  } else if (random || b.allow_random_data) {
    // Uniform random pixels and labels: the timing of the layers does not depend on the images,
    // though the solver's NFE does a little.
    set.count = o.batch_size, set.height = 28, set.width = 28;
    nn::Rng rng(o.seed);
    set.pixels.resize(static_cast<std::size_t>(set.count * 28 * 28));
    for (float& p : set.pixels) p = static_cast<float>(rng.uniform());
    for (Index i = 0; i < set.count; ++i) set.labels.push_back(static_cast<std::uint8_t>(i % 10));
    r.data = "random";
  } else {
    throw IoError(cat("bench odenet: no data at ", o.data_dir().string()));
  }
  const models::ImageClassifierOptions mo = classifier_options(o, set);
  r.grad = o.model == "resnet" ? "direct" : mo.effective_grad();
  models::ImageClassifier<Scalar> model(mo);
  model.init(o.seed);
  Sgd<Scalar> optimizer({.lr = o.lr, .momentum = o.momentum});
  ImageBatcher batcher(set, {.batch_size = o.batch_size, .shuffle = false, .augment = false});
  Matrix<float> x;
  std::vector<int> labels;
  TrainStep<Scalar> step;
  double seconds = 0, nfe_f = 0, nfe_b = 0;
  std::uint64_t epoch = 0;
  for (int i = 0; i < b.warmup + b.iters; ++i) {
    if (!batcher.next(x, labels) || x.rows() != o.batch_size) {
      batcher.start_epoch(epoch++);
      batcher.next(x, labels);
    }
    const auto t0 = Clock::now();
    step(model, optimizer, x, labels);
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

std::string odenet_table(const std::vector<std::filesystem::path>& run_dirs) {
  if (run_dirs.empty()) throw InvalidArgument("table odenet: give at least one run directory");
  std::ostringstream t;
  t << "| run | model | gradient | epochs | test error | parameters | peak memory | time per "
       "epoch | NFE forward | NFE backward |\n"
    << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& dir : run_dirs) {
    std::ifstream cin(dir / "config.json");
    if (!cin) throw IoError(cat("table odenet: ", dir.string(), " has no config.json"));
    const auto config = nlohmann::json::parse(cin, nullptr, false);
    if (config.is_discarded())
      throw IoError(cat("table odenet: ", (dir / "config.json").string(), " is not valid JSON"));
    auto c = detail::read_metric_columns(
        dir / "metrics.jsonl", "epoch",
        {"epoch", "seconds", "peak_rss_bytes", "test_error", "nfe_forward", "nfe_backward"});
    const std::size_t lines = c["epoch"].size();
    if (lines == 0)
      throw IoError(cat("table odenet: ", dir.string(), " has no finished epoch in metrics.jsonl"));
    double seconds = 0, peak = 0;  // absent values (NaN) count as 0
    for (std::size_t i = 0; i < lines; ++i) {
      if (std::isfinite(c["seconds"][i])) seconds += c["seconds"][i];
      if (std::isfinite(c["peak_rss_bytes"][i])) peak = std::max(peak, c["peak_rss_bytes"][i]);
    }
    const auto last = [&](const char* key) { return c[key][lines - 1]; };
    std::ostringstream row;
    row << std::fixed << "| " << dir.filename().string() << " | " << config.value("model", "?")
        << " | " << config.value("grad", "?") << " | " << static_cast<int>(last("epoch")) << " | "
        << std::setprecision(2) << 100.0 * last("test_error") << " % | "
        << config.value("num_params", std::int64_t{0}) << " | " << std::setprecision(0)
        << peak / (1 << 20) << " MiB | " << std::setprecision(1)
        << seconds / static_cast<double>(lines) << " s | " << last("nfe_forward") << " | "
        << last("nfe_backward") << " |\n";
    t << row.str();
  }
  return t.str();
}

}  // namespace neuralode::train
