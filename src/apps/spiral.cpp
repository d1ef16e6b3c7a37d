// The spiral demo (torchdiffeq's examples/ode_demo.py, reproduced setting by setting): the true
// dynamics dy/dt = (y^3) A, A = [[-0.1, 2], [-2, -0.1]], y0 = [2, 0], observed at
// linspace(0, 25, 1000); a field Linear(2,50) -> tanh -> Linear(50,2) applied to y^3, weights
// N(0, 0.1^2) and biases 0; RMSprop; mean absolute error on random windows.
#include "neuralode/apps/spiral.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <random>
#include <span>

#include "apps/spiral_model.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/layer_field.hpp"
#include "neuralode/nn/linear.hpp"
#include "neuralode/nn/sequential.hpp"
#include "neuralode/nn/threads.hpp"
#include "neuralode/ode.hpp"
#include "neuralode/plot/figure.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "neuralode/train/metrics_log.hpp"
#include "neuralode/train/optimizer.hpp"
#include "neuralode/train/progress.hpp"
#include "neuralode/train/run_directory.hpp"
#include "neuralode/train/stop_signal.hpp"
#include "neuralode/train/trainer.hpp"
#include "train/metric_columns.hpp"
#include "train/options_config.hpp"

namespace neuralode::apps {

// The training stack and the figures this program builds on.
using namespace neuralode::train;
using namespace neuralode::plot;

using detail::cat;
using detail::num;

void SpiralOptions::validate() const {
  // Every message reads "spiral: <flag> = <value> ...; accepted: <range>" (STYLE.md section 7);
  // fields without a flag (data_size, t_end) are named as fields.
  const auto fail = [](const auto&... parts) -> void {
    throw InvalidArgument(cat("spiral: ", parts...));
  };
  const auto at_least = [&](const char* flag, std::int64_t v, std::int64_t min) {
    if (v < min) fail(flag, " = ", v, " is out of range; accepted: an integer >= ", min);
  };
  const auto positive_finite = [&](const char* flag, double v) {
    if (!(v > 0) || !std::isfinite(v))
      fail(flag, " = ", num(v), " is out of range; accepted: a finite number > 0");
  };
  at_least("--iters", iters, 1);
  at_least("--test-freq", test_freq, 1);
  at_least("--batch-size", batch_size, 1);
  at_least("--max-steps", solve.max_num_steps, 1);
  if (threads < 1 || threads > kMaxThreads)
    fail("--threads = ", threads, " is out of range; accepted: an integer in [1, ", kMaxThreads,
         "]");
  if (warmup < 0 || warmup >= iters)
    fail("--warmup = ", warmup, " is out of range for --iters = ", iters,
         ": the first --warmup steps are not timed, so at least one step must follow them; "
         "accepted: an integer in [0, ",
         iters - 1, "]");
  positive_finite("--lr", lr);
  positive_finite("--rtol", solve.rtol);
  positive_finite("--atol", solve.atol);
  positive_finite("t_end", t_end);
  // A window is batch_time consecutive points; batch_size of them are drawn without replacement
  // from the data_size - batch_time window starts (ode_demo's get_batch).
  if (data_size < 3)
    fail("data_size = ", data_size,
         " is out of range; accepted: an integer >= 3 (windows of 2 points need 3)");
  if (batch_time < 2 || batch_time > data_size - 1)
    fail("--batch-time = ", batch_time, " is out of range; accepted: an integer in [2, ",
         data_size - 1, "] (points per window; the trajectory has data_size = ", data_size,
         " points)");
  const int windows = data_size - batch_time;
  if (batch_size > windows)
    fail("--batch-size = ", batch_size, " is more than the ", windows,
         " windows of --batch-time = ", batch_time, " points in the ", data_size,
         "-point trajectory (windows are drawn without replacement); accepted: an integer in [1, ",
         windows, "]");
  if (dtype != "float32" && dtype != "float64")
    fail("--dtype '", dtype, "' is not accepted; accepted: float32, float64");
  // The registries' own messages list the accepted words; the prefix names the flag.
  const auto named = [&](const char* flag, const auto& check) {
    try {
      check();
    } catch (const InvalidArgument& e) {
      fail(flag, ": ", e.what());
    }
  };
  named("--method", [&] { ode::find_method(solve.method); });
  named("--grad", [&] { grad.validate(); });
  // In the scalar type the run trains in: float cannot resolve tolerances double can.
  const double eps = dtype == "float32" ? std::numeric_limits<float>::epsilon()
                                        : std::numeric_limits<double>::epsilon();
  named("solver options", [&] { solve.validate(0, 0, eps); });
}

namespace {

// The true trajectory, data_size x 2, in double: torchdiffeq computes it with dopri5 too; we use
// tight tolerances so the data carry no solver error worth mentioning.
Matrix<double> true_trajectory(const SpiralOptions& o, std::vector<double>& t) {
  t.resize(static_cast<std::size_t>(o.data_size));
  for (int i = 0; i < o.data_size; ++i)
    t[static_cast<std::size_t>(i)] = o.t_end * i / (o.data_size - 1);
  auto lambda = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    const double a = y(0, 0) * y(0, 0) * y(0, 0), b = y(0, 1) * y(0, 1) * y(0, 1);
    dy(0, 0) = a * -0.1 + b * -2.0;  // (y^3) A with A = [[-0.1, 2.0], [-2.0, -0.1]]
    dy(0, 1) = a * 2.0 + b * -0.1;
  };
  Matrix<double> y0(1, 2);
  y0 << 2.0, 0.0;
  ode::SolveOptions opt;
  opt.rtol = 1e-10;
  opt.atol = 1e-12;
  ode::Solution<double> sol = ode::odeint(lambda, y0, t, opt);
  return sol.ys;  // data_size x 2
}

template <class Scalar>
std::unique_ptr<nn::LayerField<Scalar>> spiral_field() {
  auto root = std::make_unique<nn::Sequential<Scalar>>(
      std::make_unique<nn::Activation<Scalar>>(nn::ActivationFn::cube, 2),
      std::make_unique<nn::Linear<Scalar>>(2, 50),
      std::make_unique<nn::Activation<Scalar>>(nn::ActivationFn::tanh, 50),
      std::make_unique<nn::Linear<Scalar>>(50, 2));
  return std::make_unique<nn::LayerField<Scalar>>(std::move(root));
}

// ode_demo's initialisation: nn.init.normal_(weight, 0, 0.1), nn.init.constant_(bias, 0).
template <class Scalar>
void init_spiral_field(nn::LayerField<Scalar>& field, std::uint64_t seed) {
  nn::Rng rng(seed);
  auto params = field.params();
  for (const nn::ParamView& v : field.param_views()) {
    std::span<Scalar> block =
        params.subspan(static_cast<std::size_t>(v.offset), static_cast<std::size_t>(v.size()));
    if (v.name.ends_with("weight"))
      nn::normal(block, 0.1, rng);
    else
      std::fill(block.begin(), block.end(), Scalar(0));
  }
}

nlohmann::json config_object(const SpiralOptions& o) {
  nlohmann::json j = {{"iters", o.iters},           {"batch_size", o.batch_size},
                      {"batch_time", o.batch_time}, {"lr", o.lr},
                      {"test_freq", o.test_freq},   {"seed", o.seed},
                      {"data_size", o.data_size},   {"t_end", o.t_end},
                      {"dtype", o.dtype},           {"optimizer", "rmsprop"}};
  detail::put_solve_config(j, o.solve);
  detail::put_grad_config(j, o.grad);
  return j;
}

std::string config_json(const SpiralOptions& o) {
  return config_object(o).dump();
}

// The options that define a run: a resumed run must have the checkpoint's values (see
// docs/training.md, "Resuming"). Left out on purpose: iters (a run may be extended), test_freq,
// max_num_steps (a cap a valid run never reaches), threads, quiet, figures, warmup and out, which
// change how it is run and reported, not what. The solver and gradient options added after the
// first checkpoints (options_config.hpp) follow the keys every spiral checkpoint has.
std::vector<ResumeKey> resume_keys() {
  std::vector<ResumeKey> keys = {{"batch_size", "--batch-size"},
                                 {"batch_time", "--batch-time"},
                                 {"lr", "--lr"},
                                 {"seed", "--seed"},
                                 {"method", "--method"},
                                 {"rtol", "--rtol"},
                                 {"atol", "--atol"},
                                 {"grad", "--grad"},
                                 {"adjoint_norm", "--adjoint-norm"},
                                 {"data_size", "data_size"},
                                 {"t_end", "t_end"},
                                 {"dtype", "--dtype"},
                                 {"optimizer", "optimizer"}};
  keys.insert(keys.end(), std::begin(detail::kSolveResumeKeysAddedLater),
              std::end(detail::kSolveResumeKeysAddedLater));
  keys.insert(keys.end(), std::begin(detail::kGradResumeKeysAddedLater),
              std::end(detail::kGradResumeKeysAddedLater));
  return keys;
}

// Restores parameters, optimizer state, RNG and iteration from a checkpoint whose configuration
// matched; returns the iteration. IoError naming the file for anything inconsistent.
template <class Scalar>
std::int64_t restore(const Checkpoint& ck, nn::LayerField<Scalar>& field,
                     RmsProp<Scalar>& optimizer, std::mt19937_64& rng) {
  const auto bad = [&](const auto&... parts) {
    return IoError(cat("checkpoint '", ck.source, "': ", parts...));
  };
  // get_params converts between F32 and F64; a resumed run must continue in its own precision.
  for (const Tensor& t : ck.tensors)
    if (t.name.starts_with(kParamsPrefix) && t.dtype != dtype_of<Scalar>())
      throw bad("tensor '", t.name, "' holds ", to_string(t.dtype), " but this run trains in ",
                to_string(dtype_of<Scalar>()), "; resume with the --dtype it was written with");
  get_params<Scalar>(ck, field.param_views(), field.params());
  const OptimizerState<Scalar> state = get_optimizer_state<Scalar>(ck);
  for (const auto& [name, buffer] : state.buffers)
    if (buffer.size() != field.params().size())
      throw bad("optimizer buffer '", kOptimPrefix, name, "' has ", buffer.size(),
                " entries but the model has ", field.params().size(), " parameters");
  try {
    optimizer.load_state(state);
  } catch (const InvalidArgument& e) {
    throw bad(e.what());
  }
  get_rng_state(ck, rng);
  const std::int64_t iteration = get_iteration(ck);
  if (state.num_steps != iteration)
    throw bad("metadata '", kIterationKey, "' = ", iteration, " but '", kOptimizerStepsKey,
              "' = ", state.num_steps, "; the spiral demo takes one optimizer step per iteration");
  return iteration;
}

template <class Scalar>
void write_figures(const SpiralOptions& o, const std::vector<double>& t,
                   const Matrix<double>& truth, const Matrix<double>& pred,
                   nn::LayerField<Scalar>& field, SpiralResult& result) {
  const Index N = truth.rows();
  std::vector<double> tx(t.begin(), t.end()), true_x(N), true_y(N), pred_x(N), pred_y(N);
  for (Index i = 0; i < N; ++i) {
    true_x[i] = truth(i, 0), true_y[i] = truth(i, 1);
    pred_x[i] = pred(i, 0), pred_y[i] = pred(i, 1);
  }
  Figure fig(FigureOptions{
      .width_px = 1500,
      .height_px = 460,
      .rows = 1,
      .cols = 3,
      .title = "neuralode spiral demo (" + o.grad.method + ", " + o.solve.method + ")"});
  const Color blue = cycle_color(0), orange = cycle_color(1);
  fig.panel(0, 0)
      .set_title("Trajectories")
      .set_xlabel("t")
      .set_ylabel("x, y")
      .line(tx, true_x, {.color = blue, .label = "x true"})
      .line(tx, pred_x, {.color = blue, .dashed = true, .label = "x predicted"})
      .line(tx, true_y, {.color = orange, .label = "y true"})
      .line(tx, pred_y, {.color = orange, .dashed = true, .label = "y predicted"});
  fig.panel(0, 1)
      .set_title("Phase portrait")
      .set_xlabel("x")
      .set_ylabel("y")
      .set_xlim(-2, 2)
      .set_ylim(-2, 2)
      .set_equal_aspect()
      .line(true_x, true_y, {.color = blue, .label = "true"})
      .line(pred_x, pred_y, {.color = orange, .dashed = true, .label = "predicted"});
  // The learned vector field on a 21 x 21 grid, arrows normalised to unit length (as ode_demo).
  const int G = 21;
  Matrix<Scalar> grid(G * G, 2), f(G * G, 2);
  for (int i = 0; i < G; ++i)
    for (int j = 0; j < G; ++j) {
      grid(i * G + j, 0) = static_cast<Scalar>(-2.0 + 4.0 * j / (G - 1));
      grid(i * G + j, 1) = static_cast<Scalar>(-2.0 + 4.0 * i / (G - 1));
    }
  field.forward(Scalar(0), ConstMatrixView<Scalar>(grid.data(), G * G, 2),
                MatrixView<Scalar>(f.data(), G * G, 2));
  std::vector<double> gx(G * G), gy(G * G), u(G * G), v(G * G);
  for (int k = 0; k < G * G; ++k) {
    const double fu = static_cast<double>(f(k, 0)), fv = static_cast<double>(f(k, 1));
    const double mag = std::max(std::hypot(fu, fv), 1e-12);
    gx[k] = static_cast<double>(grid(k, 0)), gy[k] = static_cast<double>(grid(k, 1));
    u[k] = fu / mag, v[k] = fv / mag;
  }
  fig.panel(0, 2)
      .set_title("Learned vector field")
      .set_xlabel("x")
      .set_ylabel("y")
      .set_xlim(-2.2, 2.2)
      .set_ylim(-2.2, 2.2)
      .set_equal_aspect()
      .arrows(gx, gy, u, v, {.color = Color::hex(0x444444)});
  result.figure = o.out / "spiral.png";
  fig.save(result.figure);
  fig.save(o.out / "spiral.svg");

  auto c = detail::read_metric_columns(o.out / "metrics.jsonl", "iter",
                                       {"iter", "loss", "nfe_forward", "nfe_backward"});
  if (c["iter"].empty()) return;
  Figure training(FigureOptions{.width_px = 1100,
                                .height_px = 420,
                                .rows = 1,
                                .cols = 2,
                                .title = "Training (" + o.grad.method + ")"});
  training.panel(0, 0)
      .set_title("Whole-trajectory loss")
      .set_xlabel("iteration")
      .set_ylabel("mean |pred - true|")
      .set_log_y()
      .line(c["iter"], c["loss"], {.label = "loss"});
  training.panel(0, 1)
      .set_title("Function evaluations per step")
      .set_xlabel("iteration")
      .set_ylabel("NFE")
      .line(c["iter"], c["nfe_forward"], {.label = "forward"})
      .line(c["iter"], c["nfe_backward"], {.label = "backward"});
  result.training_figure = o.out / "training.png";
  training.save(result.training_figure);
}

// The spiral demo's part of the training loop: ode_demo's batches, the whole-trajectory test
// every test_freq steps (the metrics line), the RNG in the checkpoint, and its error messages.
template <class Scalar>
class SpiralProgram final : public TrainingProgram<Scalar, SpiralBatch<Scalar>> {
 public:
  using Batch = SpiralBatch<Scalar>;
  SpiralProgram(const SpiralOptions& o, const Matrix<double>& truth, std::vector<Scalar> all_t,
                nn::LayerField<Scalar>& field, std::mt19937_64& rng,
                const Trainer<Scalar, Batch>& trainer)
      : o_(o),
        truth_(truth),
        all_t_(std::move(all_t)),
        field_(field),
        rng_(rng),
        trainer_(trainer),
        windows_(o.data_size - o.batch_time),
        order_(static_cast<std::size_t>(windows_)),
        true_y0_(1, 2),
        t_window_(std::chrono::steady_clock::now()) {
    true_y0_ << static_cast<Scalar>(truth(0, 0)), static_cast<Scalar>(truth(0, 1));
  }

  // ode_demo's get_batch: batch_size distinct window starts, uniformly without replacement
  // (partial Fisher-Yates), then batch_time consecutive points from each.
  void next_batch(std::int64_t, Batch& batch) override {
    const Index B = o_.batch_size, T = o_.batch_time;
    batch.y0.resize(B, 2);
    batch.target.resize(T, 2 * B);
    for (Index i = 0; i < windows_; ++i) order_[static_cast<std::size_t>(i)] = i;
    for (Index i = 0; i < B; ++i) {
      std::uniform_int_distribution<Index> pick(i, windows_ - 1);
      std::swap(order_[static_cast<std::size_t>(i)], order_[static_cast<std::size_t>(pick(rng_))]);
    }
    for (Index b = 0; b < B; ++b) {
      const Index s = order_[static_cast<std::size_t>(b)];
      for (Index d = 0; d < 2; ++d) batch.y0(b, d) = static_cast<Scalar>(truth_(s, d));
      for (Index i = 0; i < T; ++i)
        for (Index d = 0; d < 2; ++d)
          batch.target(i, 2 * b + d) = static_cast<Scalar>(truth_(s + i, d));
    }
  }

  void after_step(std::int64_t, const models::BatchLoss& loss, const models::NfeReport& nfe,
                  double) override {
    train_loss_ = loss.loss;
    nfe_f_window_ += nfe.forward, nfe_b_window_ += nfe.backward, ++steps_window_;
  }

  bool report_due(std::int64_t it) const override {
    return it % o_.test_freq == 0 || it == o_.iters;
  }

  void report(std::int64_t it, MetricsRecord& rec) override {
    test_loss_ =
        solver_call(it, "whole-trajectory test solve", [&] { return whole_trajectory_loss(); });
    if (!std::isfinite(test_loss_))
      throw diverged_error(it, cat("the whole-trajectory loss is ", num(test_loss_)));
    const auto now = std::chrono::steady_clock::now();
    const double ms =
        std::chrono::duration<double, std::milli>(now - t_window_).count() / steps_window_;
    rec.add("iter", it)
        .add("loss", test_loss_)
        .add("train_loss", train_loss_)
        .add("nfe_forward", static_cast<double>(nfe_f_window_) / steps_window_)
        .add("nfe_backward", static_cast<double>(nfe_b_window_) / steps_window_)
        .add("ms", ms);
    nfe_f_window_ = nfe_b_window_ = steps_window_ = 0;
  }

  void put_state(Checkpoint& ck, std::int64_t, bool) override {
    put_rng_state(ck, rng_);
    // Checkpoint and test time are not training time: the next window starts after them. (The
    // trainer writes the checkpoint right after put_state.)
    t_window_ = std::chrono::steady_clock::now();
  }

  // A solver failure inside training (step size underflow, NaN/Inf in the state) usually means
  // the field has blown up, not that the tolerances are wrong: say which iteration and both.
  [[noreturn]] void step_failed(std::int64_t it, const Error& e) override {
    if (dynamic_cast<const SolveError*>(&e) == nullptr) throw;  // not the solver's: as it was
    throw solve_error(it, e.what());
  }

  [[noreturn]] void diverged(std::int64_t it, Divergence what,
                             const models::BatchLoss& loss) override {
    switch (what) {
      case Divergence::loss:
        throw diverged_error(it, cat("the training loss is ", num(loss.loss)));
      case Divergence::gradient:
        throw diverged_error(
            it, cat("the gradient has NaN/Inf entries (training loss ", num(loss.loss), ")"));
      case Divergence::parameters:
        break;
    }
    throw diverged_error(it, "the optimizer step made parameters NaN/Inf");
  }

  std::string where(std::int64_t it, bool) const override {
    return cat("spiral: iteration ", it, " of ", o_.iters);
  }

  // Mean |pred - true| over the whole trajectory from y0 = [2, 0].
  double whole_trajectory_loss() {
    const Matrix<Scalar>& ys = whole_trajectory();
    double s = 0;
    for (Index i = 0; i < truth_.rows(); ++i)
      for (Index d = 0; d < 2; ++d) s += std::abs(static_cast<double>(ys(i, d)) - truth_(i, d));
    return s / static_cast<double>(truth_.size());
  }
  const Matrix<Scalar>& whole_trajectory() {
    ode::odeint<Scalar>(field_, ConstMatrixView<Scalar>(true_y0_.data(), 1, 2), all_t_, o_.solve,
                        test_ws_, test_sol_);
    return test_sol_.ys;
  }
  double test_loss() const { return test_loss_; }

 private:
  std::string checkpoint_text() const {
    const std::int64_t last = trainer_.last_checkpoint();
    return last >= 0 ? cat("the last good checkpoint, of iteration ", last, ", is unchanged in '",
                           (o_.out / "checkpoint.safetensors").string(), "'")
                     : cat("no checkpoint was written (the first comes at iteration ",
                           std::min<std::int64_t>(o_.test_freq, o_.iters), ")");
  }
  SolveError diverged_error(std::int64_t it, const std::string& what) const {
    return SolveError(cat("spiral: training diverged at iteration ", it, ": ", what, "; ",
                          checkpoint_text(), "; try a lower --lr (now ", num(o_.lr), ")"));
  }
  SolveError solve_error(std::int64_t it, const std::string& what) const {
    return SolveError(cat("spiral: iteration ", it, ", ", what,
                          "; if the loss was growing, training may have diverged: try a lower "
                          "--lr (now ",
                          num(o_.lr), "); ", checkpoint_text()));
  }
  template <class Call>
  double solver_call(std::int64_t it, const char* what, const Call& call) {
    try {
      return call();
    } catch (const SolveError& e) {
      throw solve_error(it, cat(what, ": ", e.what()));
    }
  }

  const SpiralOptions& o_;
  const Matrix<double>& truth_;
  std::vector<Scalar> all_t_;
  nn::LayerField<Scalar>& field_;
  std::mt19937_64& rng_;
  const Trainer<Scalar, Batch>& trainer_;
  Index windows_;
  std::vector<Index> order_;
  Matrix<Scalar> true_y0_;
  ode::SolverWorkspace<Scalar> test_ws_;
  ode::Solution<Scalar> test_sol_;
  double test_loss_ = std::numeric_limits<double>::quiet_NaN(), train_loss_ = 0;
  std::int64_t nfe_f_window_ = 0, nfe_b_window_ = 0, steps_window_ = 0;
  std::chrono::steady_clock::time_point t_window_;
};

template <class Scalar>
SpiralResult train(const SpiralOptions& o, std::ostream& log) {
  const std::filesystem::path ckpt_path = o.out / "checkpoint.safetensors";
  // Everything about --out and --resume is checked before the (cheap but not free) true
  // trajectory is computed and before anything is written.
  std::optional<Checkpoint> resumed;
  std::error_code ec;
  if (o.resume && !std::filesystem::exists(o.out, ec))
    throw IoError(cat("spiral --resume: there is no run to resume in '", o.out.string(),
                      "': the directory does not exist; start a new run without --resume"));
  prepare_run_directory(o.out, o.resume, "spiral");
  if (o.resume) {
    if (!std::filesystem::exists(ckpt_path, ec))
      throw IoError(cat("spiral --resume: no checkpoint to resume from: '", ckpt_path.string(),
                        "' does not exist (the first is written at iteration --test-freq); start "
                        "a new run without --resume in another --out"));
    resumed = read_checkpoint(ckpt_path);
    require_same_config(*resumed, config_json(o), resume_keys(), "spiral",
                        config_json(SpiralOptions{}));
  }

  nn::set_num_threads(o.threads);
  std::vector<double> t_all;
  const Matrix<double> truth = true_trajectory(o, t_all);

  auto field_ptr = spiral_field<Scalar>();
  nn::LayerField<Scalar>& field = *field_ptr;
  RmsProp<Scalar> optimizer(RmsPropOptions{.lr = o.lr});
  std::mt19937_64 rng(o.seed);
  std::int64_t start = 0;
  SpiralResult result;
  if (resumed) {
    start = restore(*resumed, field, optimizer, rng);
    resumed.reset();
    if (start > o.iters)
      throw InvalidArgument(cat("spiral: --iters = ", o.iters,
                                " is below the checkpoint's iteration ", start, " ('",
                                ckpt_path.string(), "'); accepted: --iters >= ", start,
                                " (a resumed run continues from its checkpoint)"));
    result.checkpoint = ckpt_path;
  } else {
    init_spiral_field(field, o.seed);
  }

  const Index T = o.batch_time;
  std::vector<Scalar> batch_t(static_cast<std::size_t>(T)), all_t(t_all.begin(), t_all.end());
  for (Index i = 0; i < T; ++i)
    batch_t[static_cast<std::size_t>(i)] = static_cast<Scalar>(t_all[static_cast<std::size_t>(i)]);
  SpiralModel<Scalar> model(field, o.solve, o.grad, batch_t);
  Trainer<Scalar, SpiralBatch<Scalar>> trainer(TrainerOptions{.checkpoint = ckpt_path,
                                                              .metrics = o.out / "metrics.jsonl",
                                                              .metrics_iteration_key = "iter",
                                                              .iterations = o.iters,
                                                              .config = config_json(o),
                                                              .resume = o.resume,
                                                              .quiet = o.quiet,
                                                              .warmup = o.warmup},
                                               model, optimizer, log);
  SpiralProgram<Scalar> program(o, truth, all_t, field, rng, trainer);
  const TrainerStats stats = trainer.run(program, start);
  double test_loss = program.test_loss();
  if (std::isnan(test_loss)) test_loss = program.whole_trajectory_loss();  // nothing left to train

  result.iterations = o.iters;
  result.steps_run = static_cast<int>(stats.steps);
  result.final_loss = test_loss;
  result.metrics = o.out / "metrics.jsonl";
  if (trainer.last_checkpoint() >= 0) result.checkpoint = ckpt_path;
  if (stats.steps > 0) {
    result.ms_per_iter = stats.timed_steps > 0
                             ? 1e3 * stats.timed_seconds / static_cast<double>(stats.timed_steps)
                             : std::numeric_limits<double>::quiet_NaN();
    result.mean_nfe_forward = stats.nfe_forward / static_cast<double>(stats.steps);
    result.mean_nfe_backward = stats.nfe_backward / static_cast<double>(stats.steps);
  } else {
    result.ms_per_iter = std::numeric_limits<double>::quiet_NaN();
  }
  if (o.figures) {
    const Matrix<double> pred = program.whole_trajectory().template cast<double>();
    write_figures(o, t_all, truth, pred, field, result);
  }
  return result;
}

}  // namespace

SpiralResult train_spiral(const SpiralOptions& options, std::ostream& log) {
  options.validate();
  return options.dtype == "float32" ? train<float>(options, log) : train<double>(options, log);
}

}  // namespace neuralode::apps
