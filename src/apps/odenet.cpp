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

#include "apps/odenet_common.hpp"
#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/models/cross_entropy.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/models/image_classifier_model.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/threads.hpp"
#include "neuralode/ode.hpp"
#include "neuralode/plot/figure.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "neuralode/train/image_data.hpp"
#include "neuralode/train/lr_schedule.hpp"
#include "neuralode/train/metrics_log.hpp"
#include "neuralode/train/optimizer.hpp"
#include "neuralode/train/process_memory.hpp"
#include "neuralode/train/progress.hpp"
#include "neuralode/train/run_directory.hpp"
#include "neuralode/train/stop_signal.hpp"
#include "neuralode/train/trainer.hpp"
#include "train/memory_budget.hpp"
#include "train/metric_columns.hpp"
#include "train/options_config.hpp"

namespace neuralode::apps {

// The training stack and the figures this program builds on.
using namespace neuralode::train;
using namespace neuralode::plot;

using detail::cat;
using detail::num;
namespace fs = std::filesystem;
using namespace odenet_internal;

namespace {

// Checkpoint metadata of a run (besides checkpoint.hpp's iteration, optimizer and config keys):
// the epochs finished, and for a checkpoint written inside an epoch (a run stopped by a signal)
// the batches of the next epoch already trained and that epoch's partial sums, so the resumed
// run writes the same metrics line the uninterrupted run would have.
constexpr const char* kEpochKey = "epoch";
constexpr const char* kEpochBatchesKey = "epoch_batches";
constexpr const char* kEpochSumsKey = "epoch_sums";
using Clock = std::chrono::steady_clock;

nlohmann::json config_json(const OdeNetOptions& o, const models::ImageClassifierOptions& m,
                           Index num_params) {
  nlohmann::json j = {{"model", o.model},           {"data", o.data_dir().string()},
                      {"augment", o.augment},       {"train_size", o.train_size},
                      {"test_size", o.test_size},   {"epochs", o.epochs},
                      {"batch_size", o.batch_size}, {"lr", o.lr},
                      {"momentum", o.momentum},     {"seed", o.seed},
                      {"threads", o.threads},       {"num_params", num_params},
                      {"optimizer", "sgd"}};
  detail::put_solve_config(j, o.solve);
  j["tol"] = o.solve.rtol;  // the first checkpoints' name, from when rtol = atol = --tol
  detail::put_grad_config(j, o.grad);
  j["grad"] = m.effective_grad();  // resnet's is direct (the registry's default)
  return j;
}

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

// The image classifiers' part of the training loop: epochs of shuffled, cropped batches with
// odenet_mnist's learning-rate schedule, an evaluation on the test set and a metrics line after
// each epoch, the epoch counters (and, for a checkpoint a signal forced inside an epoch, that
// epoch's partial sums) in the checkpoint, and the messages of a diverging run.
class OdeNetProgram final : public TrainingProgram<float, models::ImageBatch> {
 public:
  using Scalar = float;
  OdeNetProgram(const OdeNetOptions& o, models::ImageClassifier<Scalar>& model,
                const ImageSet& test, ImageBatcher& batcher, const MultiStepLr& schedule,
                Optimizer<Scalar>& optimizer, std::int64_t bpe, const fs::path& ckpt_path,
                std::ostream& log, OdeNetResult& result)
      : o_(o),
        model_(model),
        test_(test),
        batcher_(batcher),
        schedule_(schedule),
        optimizer_(optimizer),
        bpe_(bpe),
        ckpt_path_(ckpt_path),
        log_(log),
        result_(result) {}

  // A resumed run: `epochs` finished and `batches` of the next one (with their sums) done.
  void resume_at(int epochs, Index batches, const EpochSums& sums) {
    saved_epochs_ = epochs, saved_batches_ = batches, saved_any_ = true;
    resumed_sums_ = sums;
    if (batches == bpe_) {  // report_pending: the epoch's sums and learning rate, for its report
      sums_ = sums;
      lr_ = schedule_.lr_at(static_cast<std::int64_t>(epochs + 1) * bpe_ - 1);
    }
  }

  // From here on SIGINT/SIGTERM only ask the loop to stop (after the iteration in progress, with
  // a checkpoint); before, while the data are read, they end the process (nothing is lost).
  void start() override {
    if (!o_.quiet) log_ << model_.describe() << "\n";
  }

  void next_batch(std::int64_t it, models::ImageBatch& batch) override {
    const int epoch = epoch_of(it);
    if (epoch != epoch_) {
      // The first batch of an epoch, or of a resumed run inside one.
      epoch_ = epoch;
      batcher_.start_epoch(static_cast<std::uint64_t>(epoch - 1));
      const Index done = batch_of(it) - 1;
      sums_ = done > 0 ? resumed_sums_ : EpochSums{};
      if (done > 0) batcher_.skip(done);
    }
    batcher_.next(batch.x, batch.labels);
    lr_ = schedule_.lr_at(it - 1);
    optimizer_.set_learning_rate(lr_);
  }

  void after_step(std::int64_t, const models::BatchLoss& r, const models::NfeReport& nfe,
                  double seconds) override {
    sums_.seconds += seconds;
    sums_.loss += r.loss * static_cast<double>(r.samples);
    sums_.correct += r.correct;
    sums_.seen += r.samples;
    ++sums_.batches;
    sums_.nfe_forward += static_cast<double>(nfe.forward);
    sums_.nfe_backward += static_cast<double>(nfe.backward);
  }

  bool report_due(std::int64_t it) const override { return it % bpe_ == 0; }
  // A checkpoint of the old loop, written by a signal after an epoch's last batch and before its
  // evaluation (epoch_batches = batches per epoch): that epoch's line comes first.
  bool report_pending(std::int64_t) const override { return saved_batches_ == bpe_; }

  void report(std::int64_t it, MetricsRecord& rec) override {
    const int epoch = epoch_of(it);
    Evaluation test;
    const auto failed = [&](const char* what) {
      return cat(kWhere, ": evaluating epoch ", epoch, " on the test set: ", what,
                 "; training may have diverged: ", hint(lr_));
    };
    try {
      test = evaluate(model_, test_, o_.batch_size);
    } catch (const SolveError& e) {
      throw SolveError(failed(e.what()));
    } catch (const InvalidArgument& e) {
      throw Error(failed(e.what()));
    }
    if (!std::isfinite(test.loss))
      throw Error(cat(kWhere, ": epoch ", epoch, " (iteration ", it,
                      "): training diverged: the test loss became ", num(test.loss), "; ",
                      hint(lr_)));
    const auto seen = static_cast<double>(sums_.seen), batches = static_cast<double>(sums_.batches);
    const OdeNetEpoch e{.epoch = epoch,
                        .train_loss = sums_.loss / seen,
                        .train_accuracy = static_cast<double>(sums_.correct) / seen,
                        .test_loss = test.loss,
                        .test_accuracy = test.accuracy,
                        .nfe_forward = sums_.nfe_forward / batches,
                        .nfe_backward = sums_.nfe_backward / batches,
                        .seconds = sums_.seconds,
                        .peak_rss_bytes = peak_rss_bytes()};
    result_.epochs.push_back(e);
    rec.add("epoch", epoch)
        .add("iteration", it)
        .add("train_loss", e.train_loss)
        .add("train_accuracy", e.train_accuracy)
        .add("test_loss", e.test_loss)
        .add("test_accuracy", e.test_accuracy)
        .add("test_error", 1.0 - e.test_accuracy)
        .add("nfe_forward", e.nfe_forward)
        .add("nfe_backward", e.nfe_backward)
        .add("seconds", e.seconds)
        .add("peak_rss_bytes", static_cast<std::int64_t>(e.peak_rss_bytes))
        .add("lr", lr_);
    if (!o_.quiet) {
      std::ostringstream line;
      line << std::fixed << std::setprecision(4) << "epoch " << epoch << "/" << o_.epochs
           << "  train loss " << e.train_loss << "  test accuracy " << std::setprecision(2)
           << 100 * e.test_accuracy << " %  nfe " << std::setprecision(1) << e.nfe_forward << "/"
           << e.nfe_backward << "  " << std::setprecision(1) << e.seconds << " s  peak "
           << static_cast<double>(e.peak_rss_bytes) / (1 << 20) << " MiB";
      if (is_terminal(log_)) log_ << "\n";
      log_ << line.str() << "\n";
    }
  }

  void put_state(Checkpoint& ck, std::int64_t it, bool complete) override {
    // After an epoch's report: that epoch is finished. Inside an epoch: the epochs before it,
    // and the batches and sums of this one.
    const int epochs_done = complete ? epoch_of(it) : epoch_of(it) - 1;
    ck.metadata[kEpochKey] = std::to_string(epochs_done);
    if (!complete) {
      ck.metadata[kEpochBatchesKey] = std::to_string(sums_.batches);
      ck.metadata[kEpochSumsKey] = sums_.to_json();
    }
    saved_epochs_ = epochs_done, saved_batches_ = complete ? 0 : sums_.batches, saved_any_ = true;
  }

  // The ODE block's solver fails on a field blown up by a diverging run (step size underflow,
  // too many steps, a non-finite state): said with the iteration and the likely cause.
  [[noreturn]] void step_failed(std::int64_t it, const Error& e) override {
    if (dynamic_cast<const SolveError*>(&e) != nullptr)
      throw SolveError(cat(
          where(it, false), ": ", e.what(), "; training may have diverged: ", hint(lr_),
          ", or loosen --tol (now rtol ", num(o_.solve.rtol), ", atol ", num(o_.solve.atol), ")"));
    // The shapes are the trainer's own; what the block refuses here is a state that became
    // non-finite inside the network ("y0 has a non-finite value"), i.e. huge parameters.
    throw Error(cat(where(it, false), ": ", e.what(), "; training may have diverged: ", hint(lr_)));
  }

  [[noreturn]] void diverged(std::int64_t it, Divergence what,
                             const models::BatchLoss& loss) override {
    const std::string text =
        what == Divergence::loss       ? cat("the training loss became ", num(loss.loss))
        : what == Divergence::gradient ? std::string("the gradient became non-finite (NaN or Inf)")
                                       : std::string(
                                             "the parameters became non-finite (NaN or Inf) after "
                                             "the SGD step");
    throw Error(cat(where(it, false), ": training diverged: ", text, "; ", hint(lr_)));
  }

  std::string where(std::int64_t it, bool after_report) const override {
    if (after_report) return cat(kWhere, ": after epoch ", epoch_of(it), " (iteration ", it, ")");
    return cat(kWhere, ": iteration ", it, " (epoch ", epoch_of(it), ", batch ", batch_of(it),
               " of ", bpe_, ")");
  }

 private:
  static constexpr const char* kWhere = "train odenet";
  int epoch_of(std::int64_t it) const { return static_cast<int>((it - 1) / bpe_) + 1; }
  Index batch_of(std::int64_t it) const { return (it - 1) % bpe_ + 1; }
  std::string hint(double lr) const {
    return cat("the learning rate was ", num(lr), " (--lr ", num(o_.lr), " x batch ", o_.batch_size,
               " / 128); ", kept_text(ckpt_path_, saved_epochs_, saved_batches_, saved_any_),
               "; start a new run with a lower --lr (e.g. --lr ", num(o_.lr / 10), ")");
  }

  const OdeNetOptions& o_;
  models::ImageClassifier<Scalar>& model_;
  const ImageSet& test_;
  ImageBatcher& batcher_;
  const MultiStepLr& schedule_;
  Optimizer<Scalar>& optimizer_;
  std::int64_t bpe_;
  fs::path ckpt_path_;
  std::ostream& log_;
  OdeNetResult& result_;
  int epoch_ = 0;
  EpochSums sums_, resumed_sums_;
  double lr_ = 0;
  int saved_epochs_ = 0;
  Index saved_batches_ = 0;
  bool saved_any_ = false;
};

}  // namespace

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
  result.metrics = o.out / "metrics.jsonl";
  models::ImageClassifierModel<Scalar> net(model);
  Trainer<Scalar, models::ImageBatch> trainer(
      TrainerOptions{
          .checkpoint = ckpt_path,
          .metrics = result.metrics,
          .iterations = static_cast<std::int64_t>(o.epochs) * bpe,
          .last_iteration = static_cast<std::int64_t>(
                                o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs) *
                            bpe,
          .config = config,
          .resume = o.resume,
          .quiet = o.quiet},
      net, optimizer, log);
  OdeNetProgram program(o, model, data.test, batcher, schedule, optimizer, bpe, ckpt_path, log,
                        result);
  if (o.resume) program.resume_at(start_epoch, start_batches, resumed_sums);
  trainer.run(program, start_iteration);
  if (trainer.last_checkpoint() >= 0) result.checkpoint = ckpt_path;
  if (o.figures) {
    result.training_figure = o.out / "training.png";
    write_training_figure(o, result.training_figure);
  }
  return result;
}

}  // namespace neuralode::apps
