// Training ODE-Net, RK-Net and ResNet on MNIST-style images; see odenet.hpp. The loop follows
// torchdiffeq's examples/odenet_mnist.py: SGD(momentum 0.9), lr 0.1 * batch / 128 with tenfold
// drops at 60/100/140 of 160 epochs, cross-entropy, evaluation on the test set after each epoch.
#include "neuralode/apps/odenet.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "train/metric_columns.hpp"
#include "train/options_config.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/models/cross_entropy.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/threads.hpp"
#include "neuralode/ode.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "neuralode/plot/figure.hpp"
#include "neuralode/train/image_data.hpp"
#include "neuralode/train/lr_schedule.hpp"
#include "neuralode/train/metrics_log.hpp"
#include "neuralode/train/optimizer.hpp"
#include "neuralode/train/process_memory.hpp"
#include "neuralode/train/progress.hpp"
#include "neuralode/train/run_directory.hpp"
#include "neuralode/train/stop_signal.hpp"
#include "train/memory_budget.hpp"

namespace neuralode::apps {

// The training stack and the figures this program builds on.
using namespace neuralode::train;
using namespace neuralode::plot;

using detail::cat;
using detail::num;
namespace fs = std::filesystem;

namespace {

// Checkpoint metadata of a run (besides checkpoint.hpp's iteration, optimizer and config keys):
// the epochs finished, and for a checkpoint written inside an epoch (a run stopped by a signal)
// the batches of the next epoch already trained and that epoch's partial sums, so the resumed
// run writes the same metrics line the uninterrupted run would have.
constexpr const char* kEpochKey = "epoch";
constexpr const char* kEpochBatchesKey = "epoch_batches";
constexpr const char* kEpochSumsKey = "epoch_sums";
using Clock = std::chrono::steady_clock;

// The ODE block computes in float: a tolerance below float's machine epsilon (1.19e-7) cannot be
// met, and the adaptive solver would shrink its steps until they underflow.
constexpr double kMinTol = 1.2e-7;
constexpr int kMaxThreads = 1024;
constexpr Index kMaxBatch = Index{1} << 31;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

models::ImageClassifierOptions classifier_options(const OdeNetOptions& o, const ImageSet& data) {
  return {.model = o.model,
          .image_height = data.height,
          .image_width = data.width,
          .num_classes = data.num_classes,
          .solve = o.solve,
          .grad = o.grad};
}

nlohmann::json config_json(const OdeNetOptions& o, const models::ImageClassifierOptions& m,
                           Index num_params) {
  nlohmann::json j = {{"model", o.model},
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
  detail::put_solve_config(j, o.solve);
  j["tol"] = o.solve.rtol;  // the first checkpoints' name, from when rtol = atol = --tol
  detail::put_grad_config(j, o.grad);
  j["grad"] = o.model == "resnet" ? "direct" : m.effective_grad();
  return j;
}

// True when every value is finite: x * 0 is 0 for finite x and NaN for NaN or Inf, and one NaN
// makes the sum NaN. One pass over the parameters, negligible beside a training iteration.
template <class Scalar>
bool all_finite(std::span<const Scalar> v) {
  Scalar acc = 0;
  for (Scalar x : v) acc += x * Scalar(0);
  return acc == Scalar(0);
}

// One SGD step on a batch: forward, cross-entropy and its gradient, backward, optimizer. Shared by
// training and the benchmark so that both time the same work; buffers are kept between steps.
// A non-finite loss or gradient is found before the step (the parameters stay as they were) and
// non-finite parameters after it; `diverged` then names what became non-finite ("" otherwise).
template <class Scalar>
struct TrainStep {
  Matrix<Scalar> logits, dlogits;
  std::vector<Scalar> grads;

  models::ClassificationResult operator()(models::ImageClassifier<Scalar>& model,
                                          Optimizer<Scalar>& optimizer, const Matrix<float>& x,
                                          const std::vector<int>& labels, std::string& diverged) {
    diverged.clear();
    logits.resize(x.rows(), model.num_classes());
    dlogits.resize(x.rows(), model.num_classes());
    grads.resize(static_cast<std::size_t>(model.num_params()));
    model.forward(ConstMatrixView<Scalar>(x.data(), x.rows(), x.cols()),
                  MatrixView<Scalar>(logits.data(), logits.rows(), logits.cols()));
    MatrixView<Scalar> dv(dlogits.data(), dlogits.rows(), dlogits.cols());
    const auto r = models::softmax_cross_entropy<Scalar>(
        ConstMatrixView<Scalar>(logits.data(), logits.rows(), logits.cols()), labels, &dv);
    if (!std::isfinite(r.loss)) {
      diverged = cat("the training loss became ", num(r.loss));
      return r;
    }
    model.backward(ConstMatrixView<Scalar>(dlogits.data(), dlogits.rows(), dlogits.cols()), grads);
    if (!all_finite<Scalar>(grads)) {
      diverged = "the gradient became non-finite (NaN or Inf)";
      return r;
    }
    optimizer.step(model.params(), grads);
    if (!all_finite<Scalar>(model.params()))
      diverged = "the parameters became non-finite (NaN or Inf) after the SGD step";
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

// The data directory, with a message for the default data set when it is not installed.
fs::path existing_data_dir(const OdeNetOptions& o, const char* where) {
  const fs::path dir = o.data_dir();
  std::error_code ec;
  if (o.data == "fashion-mnist" && !fs::exists(dir, ec))
    throw InvalidArgument(cat(where, ": --data fashion-mnist: Fashion-MNIST is not installed (no ",
                              dir.string(),
                              "); install Debian's dataset-fashion-mnist (scripts/install-deps "
                              "does), or give --data DIR, a directory with the four MNIST-style "
                              "IDX files"));
  if (!fs::is_directory(dir, ec))
    throw InvalidArgument(
        cat(where, ": --data ", o.data, ": ", dir,
            fs::exists(dir, ec) ? " is not a directory" : " does not exist",
            "; accepted: fashion-mnist, or a directory with the four "
            "MNIST-style IDX files (train|t10k)-(images-idx3|labels-idx1)-ubyte"
            "[.gz]",
            std::string_view(where) == "bench odenet" ? ", or random (random pixels)" : ""));
  return dir;
}

// The first train_size / test_size images (0 = all) of the data; reads only those.
ImageData load_data(const OdeNetOptions& o, const char* where) {
  const fs::path dir = existing_data_dir(o, where);
  auto limit = [](Index n) { return n > 0 ? n : kAllRecords; };
  ImageData d = load_mnist_style(dir, limit(o.train_size), limit(o.test_size));
  auto check = [&](const ImageSet& set, const char* which, const char* flag, Index asked) {
    if (set.count == 0)
      throw InvalidArgument(cat(where, ": the ", which, " set in ", dir,
                                " has 0 images; accepted: at least 1 (an empty set has no loss "
                                "or accuracy)"));
    if (asked > set.count)
      throw InvalidArgument(cat(where, ": ", flag, " = ", asked, " but the ", which, " set in ",
                                dir, " has only ", set.count, " images; accepted: 0 (all) .. ",
                                set.count));
  };
  check(d.train, "training", "--train-size", o.train_size);
  check(d.test, "test", "--test-size", o.test_size);
  return d;
}

// A lower bound on the bytes one training step of `m` at `batch` images keeps: the batch itself
// and the outputs of the down-sampling convolutions, normalisations and activations, each held
// once for the forward pass and once as its cotangent in the backward pass (float). The ODE
// block's own storage, which depends on the steps the solver takes, comes on top. At batch 128 on
// 28x28 images this is 161 MiB; `bench odenet --data random` measured 354 (odenet), 382 (rknet)
// and 419 MiB (resnet) of peak RSS there, one thread.
double training_bytes_lower_bound(const models::ImageClassifierOptions& m, Index batch) {
  const double C = static_cast<double>(m.channels);
  const double h1 = static_cast<double>(m.image_height - 2),
               w1 = static_cast<double>(m.image_width - 2);
  const double h2 = std::floor((h1 + 2 - 4) / 2) + 1, w2 = std::floor((w1 + 2 - 4) / 2) + 1;
  const double h3 = std::floor((h2 + 2 - 4) / 2) + 1, w3 = std::floor((w2 + 2 - 4) / 2) + 1;
  const double per_image = static_cast<double>(m.image_height * m.image_width) +
                           2 * (3 * C * h1 * w1 + 3 * C * h2 * w2 + C * h3 * w3);
  return per_image * static_cast<double>(batch) * sizeof(float);
}

void require_batch_fits(const char* where, const models::ImageClassifierOptions& m, Index batch) {
  detail::require_memory(where,
                         cat("a training step of ", m.model, " at --batch-size ", batch, " on ",
                             m.image_height, "x", m.image_width, " images"),
                         training_bytes_lower_bound(m, batch), "use a smaller --batch-size");
}

// ---- resuming --------------------------------------------------------------------------------

// The options that define a run, as config.json names them, and the flag each comes from. A
// resumed run must match the checkpoint in all of them: the data order, the crops, the schedule
// and the optimizer's state all depend on them, so a change would make the resumed run a
// different one while metrics.jsonl and config.json describe it as one run.
std::vector<ResumeKey> run_defining_keys() {
  std::vector<ResumeKey> keys = {{"model", "--model"},
                                 {"method", "--method"},
                                 {"tol", "--tol"},
                                 {"atol", "--atol", true},
                                 {"grad", "--grad"},
                                 {"adjoint_norm", "--adjoint-norm", true},
                                 {"data", "--data"},
                                 {"augment", "--no-augment"},
                                 {"train_size", "--train-size"},
                                 {"test_size", "--test-size"},
                                 {"epochs", "--epochs"},
                                 {"batch_size", "--batch-size"},
                                 {"lr", "--lr"},
                                 {"momentum", "momentum"},
                                 {"seed", "--seed"}};
  keys.insert(keys.end(), std::begin(detail::kSolveResumeKeysAddedLater),
              std::end(detail::kSolveResumeKeysAddedLater));
  keys.insert(keys.end(), std::begin(detail::kGradResumeKeysAddedLater),
              std::end(detail::kGradResumeKeysAddedLater));
  return keys;
}

// What a checkpoint written before an option existed ran with: the default, and for atol the
// recorded tol (rtol = atol = --tol then).
nlohmann::json absent_value(const std::string& key, const nlohmann::json& recorded) {
  if (key == "atol") return recorded.value("tol", nlohmann::json());
  const OdeNetOptions defaults;
  nlohmann::json d;
  detail::put_solve_config(d, defaults.solve);
  detail::put_grad_config(d, defaults.grad);
  return d.value(key, nlohmann::json());
}

bool same_data_dir(const nlohmann::json& a, const nlohmann::json& b) {
  if (!a.is_string() || !b.is_string()) return a == b;
  std::error_code e1, e2;
  const fs::path pa = fs::weakly_canonical(a.get<std::string>(), e1);
  const fs::path pb = fs::weakly_canonical(b.get<std::string>(), e2);
  return e1 || e2 ? a == b : pa == pb;
}

void check_same_run(const Checkpoint& ck, const fs::path& path, const nlohmann::json& now) {
  const auto it = ck.metadata.find(kConfigKey);
  if (it == ck.metadata.end())
    throw IoError(cat("train odenet --resume: checkpoint '", path.string(), "' has no '",
                      kConfigKey, "' in its metadata, so its options cannot be checked"));
  const auto recorded = nlohmann::json::parse(it->second, nullptr, false);
  if (!recorded.is_object())
    throw IoError(cat("train odenet --resume: checkpoint '", path.string(), "': metadata '",
                      kConfigKey, "' is not a JSON object"));
  for (const ResumeKey& k : run_defining_keys()) {
    const auto found = recorded.find(k.config_key);
    nlohmann::json value;
    if (found != recorded.end())
      value = *found;
    else if (k.may_be_absent)
      value = absent_value(k.config_key, recorded);
    if (value.is_null())
      throw IoError(cat("train odenet --resume: checkpoint '", path.string(),
                        "': its config has no '", k.config_key, "'"));
    const nlohmann::json& n = now.at(k.config_key);
    const bool same =
        std::string_view(k.config_key) == "data" ? same_data_dir(value, n) : value == n;
    if (!same)
      throw InvalidArgument(cat("train odenet --resume: ", k.flag, " (", k.config_key, " = ",
                                n.dump(), ") differs from the run being resumed (", k.config_key,
                                " = ", value.dump(), ", recorded in '", path.string(),
                                "'); a resumed run keeps the options that define it: resume with "
                                "the recorded value, or start a new run with another --out"));
  }
}

// Partial sums of an epoch (what its metrics line averages).
struct EpochSums {
  double loss = 0, nfe_forward = 0, nfe_backward = 0, seconds = 0;
  Index correct = 0, seen = 0, batches = 0;

  std::string to_json() const {
    return nlohmann::json{
        {"loss", loss},       {"nfe_forward", nfe_forward}, {"nfe_backward", nfe_backward},
        {"seconds", seconds}, {"correct", correct},         {"seen", seen},
        {"batches", batches}}
        .dump();
  }
  static EpochSums from_json(const std::string& text, const fs::path& path) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    EpochSums s;
    auto number = [&](const char* key, auto& out) {
      const auto it = j.is_object() ? j.find(key) : j.end();
      if (!j.is_object() || it == j.end() || !it->is_number())
        throw IoError(cat("train odenet: checkpoint '", path.string(), "': metadata '",
                          kEpochSumsKey, "' has no number '", key, "'"));
      out = it->template get<std::remove_reference_t<decltype(out)>>();
    };
    number("loss", s.loss), number("nfe_forward", s.nfe_forward);
    number("nfe_backward", s.nfe_backward), number("seconds", s.seconds);
    number("correct", s.correct), number("seen", s.seen), number("batches", s.batches);
    return s;
  }
};

// "the checkpoint of epoch 2 in 'runs/x/checkpoint.safetensors' is kept" or "no checkpoint was
// written yet".
std::string kept_text(const fs::path& ckpt, int epochs_done, Index batches_done, bool any) {
  if (!any) return "no checkpoint was written yet";
  return cat("the last good checkpoint (", epochs_done, " epochs",
             batches_done > 0 ? cat(" and ", batches_done, " batches") : std::string(),
             ") is kept in '", ckpt.string(), "'");
}

}  // namespace

void OdeNetOptions::validate() const {
  auto refuse = [](const std::string& what) { throw InvalidArgument("odenet: " + what); };
  if (epochs < 1) refuse(cat("--epochs = ", epochs, "; accepted: an integer >= 1"));
  if (batch_size < 1 || batch_size > kMaxBatch)
    refuse(cat("--batch-size = ", batch_size, "; accepted: an integer in [1, ", kMaxBatch, "]"));
  if (!(lr > 0) || !std::isfinite(lr))
    refuse(cat("--lr = ", num(lr), "; accepted: a finite number > 0"));
  if (!std::isfinite(lr * static_cast<double>(batch_size) / 128.0))
    refuse(cat("--lr = ", num(lr), " scaled by --batch-size ", batch_size,
               " / 128 is not a finite number; accepted: a smaller --lr"));
  if (threads < 1 || threads > kMaxThreads)
    refuse(cat("--threads = ", threads, "; accepted: an integer in [1, ", kMaxThreads, "]"));
  // --tol sets both; a run given --rtol or --atol apart is named by that flag.
  const bool one_tol = solve.rtol == solve.atol;
  const auto tolerance = [&](const char* flag, double v) {
    if (!(v >= kMinTol) || !std::isfinite(v))
      refuse(cat(one_tol ? "--tol" : flag, " = ", num(v), "; accepted: a finite number >= ",
                 num(kMinTol),
                 " (the ODE block computes in float32, whose machine epsilon is 1.19e-07)"));
  };
  tolerance("--rtol", solve.rtol);
  tolerance("--atol", solve.atol);
  if (!(momentum >= 0 && momentum < 1))
    refuse(cat("momentum = ", num(momentum), "; accepted: [0, 1)"));
  if (stop_after < 0)
    refuse(cat("--stop-after = ", stop_after, "; accepted: an integer >= 0 (0 = never)"));
  if (train_size < 0)
    refuse(cat("--train-size = ", train_size, "; accepted: an integer >= 0 (0 = all)"));
  if (test_size < 0)
    refuse(cat("--test-size = ", test_size, "; accepted: an integer >= 0 (0 = all)"));
  if (data.empty())
    refuse(
        "--data is empty; accepted: fashion-mnist or a directory with the four MNIST-style "
        "IDX files");
  // The words, each named by its flag with the accepted ones listed.
  if (model != "odenet" && model != "rknet" && model != "resnet")
    refuse(cat("--model '", model, "' is not known; accepted: ", models::image_model_names()));
  try {
    ode::find_method(solve.method);
  } catch (const InvalidArgument& e) {
    refuse(cat("--method: ", e.what()));
  }
  if (model == "resnet") {
    // ResNet has no ODE block: a gradient method, solver or tolerance would be ignored.
    const OdeNetOptions defaults;
    if (!grad.method.empty() && grad.method != "direct")
      refuse(cat("--grad ", grad.method,
                 " does not apply to --model resnet, which has no ODE block and "
                 "is trained by backpropagation; accepted: direct, or leave --grad out"));
    if (solve.method != defaults.solve.method)
      refuse(cat("--method ", solve.method,
                 " does not apply to --model resnet, which has no ODE block "
                 "(its residual blocks are not solved); leave --method out"));
    if (solve.rtol != defaults.solve.rtol || solve.atol != defaults.solve.atol)
      refuse(cat("--tol ", num(solve.rtol),
                 " does not apply to --model resnet, which has no ODE block; "
                 "leave --tol out"));
    // Every other solver flag likewise, named by its flag (the config key with '-').
    nlohmann::json now, def;
    detail::put_solve_config(now, solve);
    detail::put_solve_config(def, defaults.solve);
    for (const auto& [key, value] : now.items())
      if (key != "max_num_steps" && value != def[key]) {
        std::string flag = key;
        std::replace(flag.begin(), flag.end(), '_', '-');
        refuse(cat("--", flag, " ", value.dump(),
                   " does not apply to --model resnet, which has no ODE block; leave it out"));
      }
  } else {
    grad::GradOptions g = grad;
    if (g.method.empty()) g.method = model == "rknet" ? "direct" : "adjoint";
    try {
      g.validate();
    } catch (const InvalidArgument& e) {
      refuse(cat("--grad: ", e.what()));
    }
    try {
      // In float, the type the block computes in.
      solve.validate(0, 0, std::numeric_limits<float>::epsilon());
    } catch (const InvalidArgument& e) {
      refuse(cat("solver options: ", e.what()));
    }
  }
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
  constexpr const char* kWhere = "train odenet";
  o.validate();
  const std::filesystem::path ckpt_path = o.out / "checkpoint.safetensors";
  prepare_run_directory(o.out, o.resume, kWhere);
  std::error_code ec;
  if (o.resume && !fs::exists(ckpt_path, ec))
    throw InvalidArgument(cat(kWhere, " --resume: there is no checkpoint to resume from ('",
                              ckpt_path.string(),
                              "' does not exist); start the run without "
                              "--resume (remove '",
                              o.out.string(),
                              "' first if it holds a "
                              "metrics.jsonl), or give the --out of the run to continue"));
  nn::set_num_threads(o.threads);
  const ImageData data = load_data(o, kWhere);
  const models::ImageClassifierOptions mo = classifier_options(o, data.train);
  require_batch_fits(kWhere, mo, o.batch_size);
  models::ImageClassifier<Scalar> model(mo);
  OdeNetResult result;
  result.num_params = model.num_params();
  // From here on SIGINT/SIGTERM only ask the loop to stop (after the iteration in progress, with
  // a checkpoint); before, while the data are read, they end the process (nothing is lost).
  StopSignal stop;
  if (!o.quiet) log << model.describe() << "\n";

  ImageBatcher batcher(
      data.train,
      {.batch_size = o.batch_size, .shuffle = true, .augment = o.augment, .seed = o.seed});
  const std::int64_t bpe = batcher.batches_per_epoch();
  const double base_lr = o.lr * static_cast<double>(o.batch_size) / 128.0;
  const MultiStepLr schedule(base_lr, {.milestones = o.lr_milestones(bpe), .gamma = 0.1});
  Sgd<Scalar> optimizer({.lr = base_lr, .momentum = o.momentum});

  const nlohmann::json config_object = config_json(o, mo, model.num_params());
  const std::string config = config_object.dump(2);
  int start_epoch = 0;
  Index start_batches = 0;  // batches of epoch start_epoch + 1 done before a mid-epoch stop
  EpochSums resumed_sums;
  std::int64_t start_iteration = 0;
  if (o.resume) {
    const Checkpoint ck = read_checkpoint(ckpt_path);
    check_same_run(ck, ckpt_path, config_object);
    start_epoch = static_cast<int>(get_int_metadata(ck, kEpochKey, 0, o.epochs));
    start_batches = get_int_metadata_or(ck, kEpochBatchesKey, 0, 0, bpe);
    if (start_batches > 0) {
      const auto it = ck.metadata.find(kEpochSumsKey);
      if (it == ck.metadata.end())
        throw IoError(cat(kWhere, ": checkpoint '", ckpt_path.string(), "' has '", kEpochBatchesKey,
                          "' but no '", kEpochSumsKey, "'"));
      resumed_sums = EpochSums::from_json(it->second, ckpt_path);
      if (resumed_sums.batches != start_batches)
        throw IoError(cat(kWhere, ": checkpoint '", ckpt_path.string(), "': '", kEpochBatchesKey,
                          "' = ", start_batches, " but its '", kEpochSumsKey, "' count ",
                          resumed_sums.batches, " batches"));
    }
    start_iteration = get_iteration(ck);
    if (start_iteration != start_epoch * bpe + start_batches)
      throw IoError(cat(kWhere, ": checkpoint '", ckpt_path.string(), "' is at iteration ",
                        start_iteration, " but at epoch ", start_epoch, " and batch ",
                        start_batches, " of ", bpe, " per epoch it would be ",
                        start_epoch * bpe + start_batches,
                        "; the checkpoint does not belong to this data set and batch size"));
    get_params<Scalar>(ck, model.param_views(), model.params());
    optimizer.load_state(get_optimizer_state<Scalar>(ck));
    if (!all_finite<Scalar>(model.params()))
      throw IoError(cat(kWhere, ": checkpoint '", ckpt_path.string(),
                        "' holds non-finite (NaN or Inf) parameters; it cannot be resumed"));
  } else {
    model.init(o.seed);
  }
  detail::write_file_atomically(o.out / "config.json", config + "\n", "odenet: cannot write");
  MetricsLog metrics(o.out / "metrics.jsonl",
                     {.append = o.resume, .drop_after_iteration = o.resume ? start_iteration : -1});
  result.metrics = metrics.path();

  Progress progress(static_cast<std::int64_t>(o.epochs) * bpe, log, !o.quiet && is_terminal(log),
                    ProgressOptions{.start_iteration = start_iteration});
  Matrix<float> x;
  std::vector<int> labels;
  TrainStep<Scalar> step;
  std::string diverged;
  std::int64_t iteration = start_iteration;
  // What is on disk, for the messages of a run that fails.
  int saved_epochs = start_epoch;
  Index saved_batches = start_batches;
  bool saved_any = o.resume;

  auto save = [&](int epochs_done, Index batches_done, const EpochSums* sums) {
    Checkpoint ck;
    put_params<Scalar>(ck, model.param_views(), model.params());
    put_optimizer_state<Scalar>(ck, optimizer.state());
    put_iteration(ck, iteration);
    ck.metadata[kEpochKey] = std::to_string(epochs_done);
    if (sums != nullptr) {
      ck.metadata[kEpochBatchesKey] = std::to_string(batches_done);
      ck.metadata[kEpochSumsKey] = sums->to_json();
    }
    ck.metadata[kConfigKey] = config;
    write_checkpoint(ckpt_path, ck);
    result.checkpoint = ckpt_path;
    saved_epochs = epochs_done, saved_batches = batches_done, saved_any = true;
  };
  const auto hint = [&](double lr) {
    return cat("the learning rate was ", num(lr), " (--lr ", num(o.lr), " x batch ", o.batch_size,
               " / 128); ", kept_text(ckpt_path, saved_epochs, saved_batches, saved_any),
               "; start a new run with a lower --lr (e.g. --lr ", num(o.lr / 10), ")");
  };

  const int last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;
  for (int epoch = start_epoch + 1; epoch <= last_epoch; ++epoch) {
    batcher.start_epoch(static_cast<std::uint64_t>(epoch - 1));
    EpochSums sums;
    if (epoch == start_epoch + 1 && start_batches > 0) {
      sums = resumed_sums;
      batcher.skip(start_batches);
    }
    while (true) {
      const auto t0 = Clock::now();
      if (!batcher.next(x, labels)) break;
      ++iteration;
      const double lr = schedule.lr_at(iteration - 1);
      optimizer.set_learning_rate(lr);
      const std::string where = cat(kWhere, ": iteration ", iteration, " (epoch ", epoch,
                                    ", batch ", sums.batches + 1, " of ", bpe, ")");
      models::ClassificationResult r;
      // The ODE block's solver fails on a field blown up by a diverging run (step size underflow,
      // too many steps, a non-finite state): said with the iteration and the likely cause.
      try {
        r = step(model, optimizer, x, labels, diverged);
      } catch (const SolveError& e) {
        throw SolveError(cat(where, ": ", e.what(), "; training may have diverged: ", hint(lr),
                             ", or loosen --tol (now rtol ", num(o.solve.rtol), ", atol ",
                             num(o.solve.atol), ")"));
      } catch (const InvalidArgument& e) {
        // The shapes are the trainer's own; what the block refuses here is a state that became
        // non-finite inside the network ("y0 has a non-finite value"), i.e. huge parameters.
        throw Error(cat(where, ": ", e.what(), "; training may have diverged: ", hint(lr)));
      }
      if (!diverged.empty())
        throw Error(cat(where, ": training diverged: ", diverged, "; ", hint(lr)));
      sums.seconds += seconds_since(t0);
      sums.loss += r.loss * static_cast<double>(x.rows());
      sums.correct += r.correct;
      sums.seen += x.rows();
      ++sums.batches;
      sums.nfe_forward += static_cast<double>(model.last_nfe_forward());
      sums.nfe_backward += static_cast<double>(model.last_nfe_backward());
      if (!o.quiet)
        progress.update(iteration, r.loss, model.last_nfe_forward(), model.last_nfe_backward());
      if (stop.requested()) {
        save(epoch - 1, sums.batches, &sums);
        if (!o.quiet) progress.finish();
        throw stop.interrupted(where, ckpt_path);
      }
    }
    Evaluation test;
    try {
      test = evaluate(model, data.test, o.batch_size);
    } catch (const SolveError& e) {
      throw SolveError(cat(kWhere, ": evaluating epoch ", epoch, " on the test set: ", e.what(),
                           "; training may have diverged: ", hint(schedule.lr_at(iteration - 1))));
    } catch (const InvalidArgument& e) {
      throw Error(cat(kWhere, ": evaluating epoch ", epoch, " on the test set: ", e.what(),
                      "; training may have diverged: ", hint(schedule.lr_at(iteration - 1))));
    }
    if (!std::isfinite(test.loss))
      throw Error(cat(kWhere, ": epoch ", epoch, " (iteration ", iteration,
                      "): training diverged: the test loss became ", num(test.loss), "; ",
                      hint(schedule.lr_at(iteration - 1))));
    const auto seen = static_cast<double>(sums.seen), batches = static_cast<double>(sums.batches);
    OdeNetEpoch e{.epoch = epoch,
                  .train_loss = sums.loss / seen,
                  .train_accuracy = static_cast<double>(sums.correct) / seen,
                  .test_loss = test.loss,
                  .test_accuracy = test.accuracy,
                  .nfe_forward = sums.nfe_forward / batches,
                  .nfe_backward = sums.nfe_backward / batches,
                  .seconds = sums.seconds,
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
    save(epoch, 0, nullptr);
    if (stop.requested()) {
      if (!o.quiet) progress.finish();
      throw stop.interrupted(cat(kWhere, ": after epoch ", epoch, " (iteration ", iteration, ")"),
                             ckpt_path);
    }
  }
  if (!o.quiet) progress.finish();
  if (result.checkpoint.empty() && saved_any) result.checkpoint = ckpt_path;
  if (o.figures) {
    result.training_figure = o.out / "training.png";
    write_training_figure(o, result.training_figure);
  }
  return result;
}

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
    detail::require_memory(kWhere, cat(o.batch_size, " random 28x28 images (--batch-size)"),
                           static_cast<double>(o.batch_size) * 28 * 28 * sizeof(float),
                           "use a smaller --batch-size");
    nn::Rng rng(o.seed);
    set.pixels.resize(static_cast<std::size_t>(set.count * 28 * 28));
    for (float& p : set.pixels) p = static_cast<float>(rng.uniform());
    for (Index i = 0; i < set.count; ++i) set.labels.push_back(static_cast<std::uint8_t>(i % 10));
    r.data = "random";
  }
  const models::ImageClassifierOptions mo = classifier_options(o, set);
  require_batch_fits(kWhere, mo, o.batch_size);
  r.grad = o.model == "resnet" ? "direct" : mo.effective_grad();
  models::ImageClassifier<Scalar> model(mo);
  model.init(o.seed);
  Sgd<Scalar> optimizer({.lr = o.lr, .momentum = o.momentum});
  ImageBatcher batcher(set, {.batch_size = o.batch_size, .shuffle = false, .augment = false});
  Matrix<float> x;
  std::vector<int> labels;
  TrainStep<Scalar> step;
  std::string diverged;
  double seconds = 0, nfe_f = 0, nfe_b = 0;
  std::uint64_t epoch = 0;
  for (int i = 0; i < b.warmup + b.iters; ++i) {
    if (!batcher.next(x, labels) || x.rows() != o.batch_size) {
      batcher.start_epoch(epoch++);
      batcher.next(x, labels);
    }
    const auto t0 = Clock::now();
    try {
      step(model, optimizer, x, labels, diverged);
    } catch (const SolveError& e) {
      throw SolveError(cat(kWhere, ": iteration ", i + 1, ": ", e.what(),
                           "; training may have diverged: lower --lr (now ", num(o.lr), ")"));
    } catch (const InvalidArgument& e) {
      throw Error(cat(kWhere, ": iteration ", i + 1, ": ", e.what(),
                      "; training may have diverged: lower --lr (now ", num(o.lr), ")"));
    }
    if (!diverged.empty())
      throw Error(cat(kWhere, ": iteration ", i + 1, ": training diverged: ", diverged,
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

namespace {

// "a number", "an array": nlohmann's type name with its article.
std::string a_type(const nlohmann::json& v) {
  const std::string name = v.type_name();
  return (name == "array" || name == "object" ? "an " : "a ") + name;
}

// A config.json value of the expected JSON type, `fallback` when absent; IoError naming the file,
// the key, the expected and the found type otherwise (nlohmann's own type_error names none).
std::string config_string(const nlohmann::json& c, const fs::path& file, const char* key) {
  const auto it = c.find(key);
  if (it == c.end()) return "?";
  if (!it->is_string())
    throw IoError(cat("table odenet: ", file.string(), ": '", key, "' is ", a_type(*it), " (",
                      it->dump(), "); accepted: a string"));
  return it->get<std::string>();
}

std::int64_t config_integer(const nlohmann::json& c, const fs::path& file, const char* key) {
  const auto it = c.find(key);
  if (it == c.end()) return 0;
  if (!it->is_number_integer())
    throw IoError(cat("table odenet: ", file.string(), ": '", key, "' is ", a_type(*it), " (",
                      it->dump(), "); accepted: an integer"));
  return it->get<std::int64_t>();
}

// The name a run directory is shown by: its last component, also when the path ends in '/'.
std::string run_name(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().empty() ? dir.string() : p.filename().string();
}

}  // namespace

std::string odenet_table(const std::vector<std::filesystem::path>& run_dirs) {
  if (run_dirs.empty()) throw InvalidArgument("table odenet: give at least one run directory");
  std::ostringstream t;
  t << "| run | model | gradient | epochs | test error | parameters | peak memory | time per "
       "epoch | NFE forward | NFE backward |\n"
    << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& dir : run_dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw IoError(cat("table odenet: ", dir.string(),
                        fs::exists(dir, ec) ? " is not a directory" : " does not exist",
                        "; accepted: a run directory written by `train odenet` (with config.json "
                        "and metrics.jsonl)"));
    const fs::path config_path = dir / "config.json", metrics_path = dir / "metrics.jsonl";
    std::ifstream cin(config_path);
    if (!cin) throw IoError(cat("table odenet: ", dir.string(), " has no config.json"));
    const auto config = nlohmann::json::parse(cin, nullptr, false);
    if (config.is_discarded())
      throw IoError(cat("table odenet: ", config_path.string(), " is not valid JSON"));
    if (!config.is_object())
      throw IoError(cat("table odenet: ", config_path.string(), " holds ", a_type(config),
                        "; accepted: a JSON object (as `train odenet` writes)"));
    const std::string model = config_string(config, config_path, "model");
    const std::string grad = config_string(config, config_path, "grad");
    const std::int64_t num_params = config_integer(config, config_path, "num_params");
    auto c = detail::read_metric_columns(
        metrics_path, "epoch",
        {"epoch", "seconds", "peak_rss_bytes", "test_error", "nfe_forward", "nfe_backward"});
    const std::size_t lines = c["epoch"].size();
    if (lines == 0)
      throw IoError(cat("table odenet: ", dir.string(), " has no finished epoch in metrics.jsonl"));
    double seconds = 0, peak = 0;  // absent values (NaN) count as 0
    for (std::size_t i = 0; i < lines; ++i) {
      if (std::isfinite(c["seconds"][i])) seconds += c["seconds"][i];
      if (std::isfinite(c["peak_rss_bytes"][i])) peak = std::max(peak, c["peak_rss_bytes"][i]);
    }
    // The last line's numbers are the result: a missing or non-numeric one is refused rather
    // than printed as "nan".
    const auto last = [&](const char* key) {
      const double v = c[key][lines - 1];
      if (!std::isfinite(v))
        throw IoError(cat("table odenet: ", metrics_path.string(),
                          ": the last epoch's line has no numeric '", key,
                          "'; accepted: lines as `train odenet` writes them"));
      return v;
    };
    const double epoch = last("epoch");
    if (epoch < 0 || epoch > INT_MAX || epoch != std::floor(epoch))
      throw IoError(cat("table odenet: ", metrics_path.string(),
                        ": the last line's 'epoch' = ", num(epoch), "; accepted: an integer >= 0"));
    std::ostringstream row;
    row << std::fixed << "| " << run_name(dir) << " | " << model << " | " << grad << " | "
        << static_cast<int>(epoch) << " | " << std::setprecision(2) << 100.0 * last("test_error")
        << " % | " << num_params << " | " << std::setprecision(0) << peak / (1 << 20) << " MiB | "
        << std::setprecision(1) << seconds / static_cast<double>(lines) << " s | "
        << last("nfe_forward") << " | " << last("nfe_backward") << " |\n";
    t << row.str();
  }
  return t.str();
}

}  // namespace neuralode::apps
