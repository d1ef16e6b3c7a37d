// Trainer: the one training loop of every program (issue 13). It owns what each program used to
// repeat: the progress display, the metrics log, checkpoints (parameters, optimizer state,
// iteration, configuration and the program's own state, written atomically), the SIGINT/SIGTERM
// handling (finish the step, checkpoint, throw Interrupted), divergence detection (a non-finite
// loss, gradient or parameter stops the run before anything non-finite is written), timing and
// NFE sums, and the place where a data-parallel run sums its gradient (`all_reduce`, identity
// today; issue 19 installs MPI's there). The program supplies a models::Model, an optimizer and a
// TrainingProgram: its batches, its evaluation and metrics line, its extra checkpoint state and
// the words of its errors. Figures are the program's (finish()); train does not link plot.
//
// A template on the model's batch type, so it lives in this header: the batch types are the
// applications' own and cannot be instantiated here once (STYLE.md section 10's exception).
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/models/model.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "neuralode/train/metrics_log.hpp"
#include "neuralode/train/optimizer.hpp"
#include "neuralode/train/progress.hpp"
#include "neuralode/train/stop_signal.hpp"

namespace neuralode::train {

struct TrainerOptions {
  // Where checkpoints go (written atomically: a temporary file renamed over the old one).
  std::filesystem::path checkpoint;
  // The metrics log, one JSON line per report; `metrics_iteration_key` names the iteration in
  // each line ("iter" for the spiral demo, as torchdiffeq's; "iteration" otherwise).
  std::filesystem::path metrics;
  std::string metrics_iteration_key = "iteration";
  // Iterations of the whole run (the progress display's total; a resumed run counts the
  // checkpoint's) and the last one this call runs (a run stopped early with --stop-after); 0 =
  // `iterations`.
  std::int64_t iterations = 0;
  std::int64_t last_iteration = 0;
  // JSON text stored under kConfigKey in every checkpoint (what --resume compares).
  std::string config;
  // A resumed run: metrics.jsonl keeps its lines up to the start iteration and is appended to.
  bool resume = false;
  // No progress display.
  bool quiet = false;
  // The first steps of this call left out of TrainerStats::timed_seconds (warm-up of caches and
  // allocations, for benchmarks).
  int warmup = 0;
};

// What became non-finite (the program words the message).
enum class Divergence { loss, gradient, parameters };

// The application's part of the loop. Each hook is called at the point its comment names.
template <class Scalar, class Batch>
class TrainingProgram {
 public:
  virtual ~TrainingProgram() = default;
  // Once per run(), after SIGINT/SIGTERM handling is installed and before the first step (a
  // program's banner: a signal from here on stops the run with a checkpoint).
  virtual void start() {}
  // Fills `batch` for iteration `it` (1-based over the whole run) and sets what changes per
  // iteration (the learning rate of a schedule). Timed as part of the step.
  virtual void next_batch(std::int64_t it, Batch& batch) = 0;
  // After the optimizer step of iteration `it`: the program's running sums. `seconds` is the
  // step's wall time, batch included.
  virtual void after_step(std::int64_t /*it*/, const models::BatchLoss& /*loss*/,
                          const models::NfeReport& /*nfe*/, double /*seconds*/) {}
  // Whether iteration `it` ends a report period (test_freq steps, an epoch). Then report()
  // evaluates and fills the metrics line, which must hold TrainerOptions::metrics_iteration_key
  // (a resume drops the lines after its checkpoint by it); the trainer writes the line, then a
  // checkpoint.
  virtual bool report_due(std::int64_t it) const = 0;
  virtual void report(std::int64_t it, MetricsRecord& record) = 0;
  // True when a resumed run's checkpoint was written after the last step of a report period but
  // before its report (older programs checked for a signal there): run() then reports and
  // checkpoints `start_iteration` before the first step.
  virtual bool report_pending(std::int64_t /*start_iteration*/) const { return false; }
  // The program's state in a checkpoint of iteration `it` beyond parameters, optimizer state and
  // iteration (an RNG, epoch counters). `complete` is false for a checkpoint a signal forced
  // inside a report period (it must hold what a resume needs to finish that period).
  virtual void put_state(Checkpoint& /*ck*/, std::int64_t /*it*/, bool /*complete*/) {}
  // A solve of iteration `it` failed (SolveError, or InvalidArgument for a state that became
  // non-finite inside the model): throw the program's error with its hints.
  [[noreturn]] virtual void step_failed(std::int64_t it, const Error& e) = 0;
  // Iteration `it` diverged: throw the program's error naming what and the learning rate.
  [[noreturn]] virtual void diverged(std::int64_t it, Divergence what,
                                     const models::BatchLoss& loss) = 0;
  // Where a signal stopped the run, for Interrupted's message ("spiral: iteration 7 of 20");
  // `after_report`: right after the report and checkpoint of `it`.
  virtual std::string where(std::int64_t it, bool after_report) const = 0;
};

// What run() did.
struct TrainerStats {
  std::int64_t steps = 0;           // optimizer steps this call ran
  std::int64_t last_iteration = 0;  // the iteration the run ended at
  double timed_seconds = 0;         // wall time of the steps after the warm-up
  std::int64_t timed_steps = 0;
  double nfe_forward = 0, nfe_backward = 0;  // sums over this call's steps
};

// True when every value is finite: x * 0 is 0 for finite x and NaN for NaN or Inf, and one NaN
// makes the sum NaN. One pass, negligible beside a training step.
template <class T>
bool all_finite(std::span<const T> v) {
  T acc = 0;
  for (const T x : v) acc += x * T(0);
  return acc == T(0);
}

template <class Scalar, class Batch>
class Trainer {
 public:
  // The model, optimizer and stream must outlive the trainer.
  Trainer(TrainerOptions options, models::Model<Scalar, Batch>& model, Optimizer<Scalar>& optimizer,
          std::ostream& log)
      : options_(std::move(options)),
        model_(model),
        optimizer_(optimizer),
        log_(log),
        grad_(static_cast<std::size_t>(model.num_params())) {}

  // Sums the gradient over the processes of a data-parallel run, in place, before it is checked
  // and applied; every process then takes the same step. Identity by default.
  std::function<void(std::span<Scalar> grad)> all_reduce;

  // One optimizer step on `batch`, as run() takes each: the loss and gradient into `loss`,
  // all_reduce, the update. Returns what became non-finite, checked before anything is applied
  // (a non-finite loss or gradient never reaches the parameters), or nothing. Errors of the
  // model's solves propagate. A benchmark that times training iterations calls this directly.
  std::optional<Divergence> step(const Batch& batch, models::BatchLoss& loss) {
    loss = model_.loss_and_gradient(batch, grad_);
    if (!std::isfinite(loss.loss)) return Divergence::loss;
    if (all_reduce) all_reduce(grad_);
    if (!all_finite<Scalar>(grad_)) return Divergence::gradient;
    optimizer_.step(model_.params(), grad_);
    if (!all_finite<Scalar>(model_.params())) return Divergence::parameters;
    return std::nullopt;
  }

  // The iteration of the last checkpoint written by this trainer or resumed from; -1 when none.
  std::int64_t last_checkpoint() const { return last_checkpoint_; }

  // Runs iterations start_iteration + 1 .. last_iteration. start_iteration: 0 for a new run, the
  // checkpoint's for a resumed one (whose parameters, optimizer state and program state the
  // program has restored). SIGINT/SIGTERM are handled for the duration of the call.
  TrainerStats run(TrainingProgram<Scalar, Batch>& program, std::int64_t start_iteration) {
    using Clock = std::chrono::steady_clock;
    const std::int64_t last =
        options_.last_iteration > 0 ? options_.last_iteration : options_.iterations;
    if (options_.resume) last_checkpoint_ = start_iteration;
    MetricsLog metrics(options_.metrics,
                       {.append = options_.resume,
                        .drop_after_iteration = options_.resume ? start_iteration : -1,
                        .iteration_key = options_.metrics_iteration_key});
    Progress progress(options_.iterations, log_, !options_.quiet && is_terminal(log_),
                      ProgressOptions{.start_iteration = start_iteration});
    // From here on SIGINT/SIGTERM finish the current step, write a checkpoint and stop.
    const StopSignal stop;
    program.start();
    Batch batch;
    TrainerStats stats;
    stats.last_iteration = start_iteration;
    if (options_.resume && program.report_pending(start_iteration))
      report_and_save(program, metrics, start_iteration);
    for (std::int64_t it = start_iteration + 1; it <= last; ++it) {
      const auto t0 = Clock::now();
      program.next_batch(it, batch);
      models::BatchLoss loss;
      std::optional<Divergence> diverged;
      try {
        diverged = step(batch, loss);
      } catch (const SolveError& e) {
        program.step_failed(it, e);
      } catch (const InvalidArgument& e) {
        program.step_failed(it, e);
      }
      if (diverged) program.diverged(it, *diverged, loss);
      const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      if (it - start_iteration > options_.warmup) {
        stats.timed_seconds += seconds;
        ++stats.timed_steps;
      }
      const models::NfeReport nfe = model_.last_nfe();
      stats.nfe_forward += static_cast<double>(nfe.forward);
      stats.nfe_backward += static_cast<double>(nfe.backward);
      ++stats.steps;
      stats.last_iteration = it;
      program.after_step(it, loss, nfe, seconds);
      if (!options_.quiet) progress.update(it, loss.loss, nfe.forward, nfe.backward);
      const bool reported = program.report_due(it);
      if (reported) report_and_save(program, metrics, it);
      if (stop.requested()) {
        if (last_checkpoint_ != it) save(program, it, false);
        if (!options_.quiet) progress.finish();
        throw stop.interrupted(program.where(it, reported), options_.checkpoint);
      }
    }
    if (!options_.quiet) progress.finish();
    return stats;
  }

 private:
  void report_and_save(TrainingProgram<Scalar, Batch>& program, MetricsLog& metrics,
                       std::int64_t it) {
    MetricsRecord record;
    program.report(it, record);
    metrics.write(record);
    save(program, it, true);
  }

  void save(TrainingProgram<Scalar, Batch>& program, std::int64_t it, bool complete) {
    Checkpoint ck;
    put_params<Scalar>(ck, model_.param_views(), model_.params());
    put_optimizer_state<Scalar>(ck, optimizer_.state());
    put_iteration(ck, it);
    program.put_state(ck, it, complete);
    ck.metadata[kConfigKey] = options_.config;
    write_checkpoint(options_.checkpoint, ck);
    last_checkpoint_ = it;
  }

  TrainerOptions options_;
  models::Model<Scalar, Batch>& model_;
  Optimizer<Scalar>& optimizer_;
  std::ostream& log_;
  std::vector<Scalar> grad_;
  std::int64_t last_checkpoint_ = -1;
};

}  // namespace neuralode::train
