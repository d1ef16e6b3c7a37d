// train_spiral and SpiralOptions given bad input (issue 21): every out-of-range or inconsistent
// option is refused before any work, naming the flag, the value and what is accepted; --resume
// refuses options that differ from the checkpoint's and checkpoints that are malformed, of another
// model or dtype, or hold NaN/Inf, leaving the run's files as they were; a diverging run stops
// with SolveError naming the iteration and --lr, and never overwrites its last good checkpoint.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "neuralode/apps/spiral.hpp"
#include "neuralode/error.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

using neuralode::test_support::contains;
using neuralode::test_support::message_of;

namespace neuralode::apps {
using namespace neuralode::train;
namespace {

namespace fs = std::filesystem;
using test_support::read_file;
using test_support::TempDir;

// A short run: 4 steps, a checkpoint at 2 and 4, no figures (milliseconds).
SpiralOptions tiny(const fs::path& out) {
  SpiralOptions o;
  o.iters = 4;
  o.test_freq = 2;
  o.quiet = true;
  o.figures = false;
  o.out = out;
  return o;
}

SpiralResult run(const SpiralOptions& o) {
  std::ostringstream log;
  return train_spiral(o, log);
}

// The run's files, to show that a refused call changed nothing.
struct Snapshot {
  std::string checkpoint, metrics;
  explicit Snapshot(const fs::path& out)
      : checkpoint(read_file(out / "checkpoint.safetensors")),
        metrics(read_file(out / "metrics.jsonl")) {}
  bool operator==(const Snapshot&) const = default;
};

// ---- options ------------------------------------------------------------------------------------

TEST(SpiralBadInput, DefaultsAreValid) {
  EXPECT_NO_THROW(SpiralOptions{}.validate());
}

struct BadOption {
  const char* what;
  std::function<void(SpiralOptions&)> set;
  const char* message_part;
};

TEST(SpiralBadInput, EveryOutOfRangeOptionIsRefusedNamingFlagValueAndRange) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<BadOption> cases = {
      {"iters 0", [](auto& o) { o.iters = 0; },
       "--iters = 0 is out of range; accepted: an integer >= 1"},
      {"test_freq 0", [](auto& o) { o.test_freq = 0; }, "--test-freq = 0"},
      {"max_num_steps 0", [](auto& o) { o.solve.max_num_steps = 0; },
       "--max-steps = 0 is out of range; accepted: an integer >= 1"},
      {"batch_size 0", [](auto& o) { o.batch_size = 0; }, "--batch-size = 0"},
      {"threads 0", [](auto& o) { o.threads = 0; },
       "--threads = 0 is out of range; accepted: an integer in [1, 1024]"},
      {"threads huge", [](auto& o) { o.threads = 100000; }, "--threads = 100000"},
      {"warmup -1", [](auto& o) { o.warmup = -1; }, "--warmup = -1"},
      {"warmup = iters", [](auto& o) { o.iters = 10, o.warmup = 10; },
       "--warmup = 10 is out of range for --iters = 10"},
      {"warmup > iters", [](auto& o) { o.iters = 10, o.warmup = 20; },
       "--warmup = 20 is out of range for --iters = 10: the first --warmup steps are not timed, so "
       "at least one step must follow them; accepted: an integer in [0, 9]"},
      {"lr 0", [](auto& o) { o.lr = 0; },
       "--lr = 0 is out of range; accepted: a finite number > 0"},
      {"lr nan", [nan](auto& o) { o.lr = nan; }, "--lr = nan"},
      {"lr inf", [inf](auto& o) { o.lr = inf; }, "--lr = inf"},
      {"rtol -1", [](auto& o) { o.solve.rtol = -1; }, "--rtol = -1"},
      {"atol inf", [inf](auto& o) { o.solve.atol = inf; }, "--atol = inf"},
      {"t_end nan", [nan](auto& o) { o.t_end = nan; }, "t_end = nan"},
      {"data_size 2", [](auto& o) { o.data_size = 2; }, "data_size = 2"},
      {"batch_time 1", [](auto& o) { o.batch_time = 1; },
       "--batch-time = 1 is out of range; accepted: an integer in [2, 999]"},
      {"batch_time = data", [](auto& o) { o.batch_time = 1000; }, "--batch-time = 1000"},
      {"batch_size > windows", [](auto& o) { o.batch_size = 991; },
       "--batch-size = 991 is more than the 990 windows of --batch-time = 10 points"},
      {"dtype", [](auto& o) { o.dtype = "float16"; },
       "--dtype 'float16' is not accepted; accepted: float32, float64"},
      {"method", [](auto& o) { o.solve.method = "magic"; },
       "--method: unknown method 'magic'; accepted: "},
      {"grad", [](auto& o) { o.grad.method = "magic"; },
       "--grad: unknown gradient method 'magic'; accepted: "},
      {"grad options", [](auto& o) { o.grad.checkpoint_every = 0; },
       "--grad: GradOptions: checkpoint_every = 0 is out of range"},
      {"solver options", [](auto& o) { o.solve.dfactor = 2; }, "solver options: "},
  };
  TempDir dir{"spiral_bad"};
  for (const auto& c : cases) {
    SpiralOptions o = tiny(dir / "never");
    c.set(o);
    const std::string msg = message_of<InvalidArgument>([&] { o.validate(); });
    EXPECT_TRUE(contains(msg, std::string("spiral: ") + c.message_part)) << c.what << ": " << msg;
    // train_spiral checks the same before anything is created.
    EXPECT_THROW(run(o), InvalidArgument) << c.what;
    EXPECT_FALSE(fs::exists(o.out)) << c.what;
  }
}

// ---- the run directory --------------------------------------------------------------------------

// Regression (issue 21): a new run into an existing run's directory truncated its metrics.
TEST(SpiralBadInput, ANewRunIntoAnExistingRunIsRefusedAndChangesNothing) {
  TempDir dir{"spiral_bad"};
  run(tiny(dir / "run"));
  const Snapshot before(dir / "run");
  const std::string msg = message_of<InvalidArgument>([&] { run(tiny(dir / "run")); });
  EXPECT_TRUE(contains(msg, "already holds a run")) << msg;
  EXPECT_TRUE(Snapshot(dir / "run") == before);
}

TEST(SpiralBadInput, ResumeWithoutARunSaysSoAndCreatesNothing) {
  TempDir dir{"spiral_bad"};
  SpiralOptions o = tiny(dir / "missing");
  o.resume = true;
  std::string msg = message_of<IoError>([&] { run(o); });
  EXPECT_TRUE(contains(msg, "the directory does not exist")) << msg;
  EXPECT_FALSE(fs::exists(o.out));
  fs::create_directories(o.out);
  msg = message_of<IoError>([&] { run(o); });
  EXPECT_TRUE(contains(msg, "no checkpoint to resume from")) << msg;
}

// ---- resuming with other options ----------------------------------------------------------------

// Regression (issue 21): `--resume --lr 0.1` kept the old rate but recorded the new one.
TEST(SpiralBadInput, ResumeRefusesEveryOptionThatDefinesTheRunNamingBothValues) {
  const std::vector<BadOption> cases = {
      {"lr", [](auto& o) { o.lr = 0.1; }, "--lr = 0.1 differs from the checkpoint's 0.001"},
      {"batch_size", [](auto& o) { o.batch_size = 7; },
       "--batch-size = 7 differs from the checkpoint's 20"},
      {"batch_time", [](auto& o) { o.batch_time = 5; }, "--batch-time = 5 differs"},
      {"seed", [](auto& o) { o.seed = 3; }, "--seed = 3 differs from the checkpoint's 0"},
      {"method", [](auto& o) { o.solve.method = "bosh3"; },
       "--method = bosh3 differs from the checkpoint's dopri5"},
      {"rtol", [](auto& o) { o.solve.rtol = 1e-6; }, "--rtol = 1e-06 differs"},
      {"atol", [](auto& o) { o.solve.atol = 1e-8; }, "--atol = 1e-08 differs"},
      {"grad", [](auto& o) { o.grad.method = "adjoint"; },
       "--grad = adjoint differs from the checkpoint's direct"},
      {"adjoint_norm", [](auto& o) { o.grad.adjoint_norm = grad::AdjointNorm::seminorm; },
       "--adjoint-norm = seminorm differs"},
      {"dtype", [](auto& o) { o.dtype = "float64"; },
       "--dtype = float64 differs from the checkpoint's float32"},
      {"t_end", [](auto& o) { o.t_end = 20; }, "t_end = 20.0 differs from the checkpoint's 25.0"},
      // Options declared by the shared solver and gradient flags (issue 13).
      {"controller", [](auto& o) { o.solve.controller = ode::Controller::pid; },
       "--controller = pid differs from the checkpoint's pi"},
      {"safety", [](auto& o) { o.solve.safety = 0.8; }, "--safety = 0.8 differs"},
      {"adjoint_rtol", [](auto& o) { o.grad.adjoint_rtol = 1e-5; }, "--adjoint-rtol = 1e-05"},
  };
  TempDir dir{"spiral_bad"};
  run(tiny(dir / "run"));
  const Snapshot before(dir / "run");
  for (const auto& c : cases) {
    SpiralOptions o = tiny(dir / "run");
    o.resume = true;
    o.iters = 8;
    c.set(o);
    const std::string msg = message_of<InvalidArgument>([&] { run(o); });
    EXPECT_TRUE(contains(msg, std::string("spiral --resume: ") + c.message_part))
        << c.what << ": " << msg;
    EXPECT_TRUE(contains(msg, (dir / "run/checkpoint.safetensors").string())) << msg;
    EXPECT_TRUE(Snapshot(dir / "run") == before) << c.what;
  }
}

TEST(SpiralBadInput, ResumeAcceptsOptionsThatOnlyChangeHowTheRunIsRunAndRecordsThem) {
  TempDir dir{"spiral_bad"};
  run(tiny(dir / "run"));
  SpiralOptions o = tiny(dir / "run");
  o.resume = true;
  o.iters = 9;
  o.test_freq = 3;
  o.threads = 2;
  const SpiralResult r = run(o);
  EXPECT_EQ(r.iterations, 9);
  EXPECT_EQ(r.steps_run, 5);
  const Checkpoint ck = read_checkpoint(dir / "run/checkpoint.safetensors");
  EXPECT_EQ(get_iteration(ck), 9);
  const auto config = nlohmann::json::parse(ck.metadata.at(kConfigKey));
  EXPECT_EQ(config["iters"], 9);  // what was run is what is recorded
  EXPECT_EQ(config["test_freq"], 3);
  // Nothing left to run: the result says so instead of "0 ms per step".
  o.iters = 9;
  const SpiralResult again = run(o);
  EXPECT_EQ(again.steps_run, 0);
  EXPECT_TRUE(std::isnan(again.ms_per_iter));
  EXPECT_EQ(again.checkpoint, dir / "run/checkpoint.safetensors");
}

// Checkpoints written before the solver and gradient options were nested (issue 13) have no
// controller, safety, adjoint_rtol, ... in their config: they resume, compared with the defaults.
TEST(SpiralBadInput, ACheckpointWithoutTheOptionsAddedLaterResumesAsIfItHeldTheDefaults) {
  TempDir dir{"spiral_bad"};
  run(tiny(dir / "run"));
  const fs::path path = dir / "run/checkpoint.safetensors";
  Checkpoint ck = read_checkpoint(path);
  auto config = nlohmann::json::parse(ck.metadata.at(kConfigKey));
  for (const char* key :
       {"step_size", "first_step", "controller", "pi_beta", "pcoeff", "icoeff", "dcoeff", "safety",
        "ifactor", "dfactor", "adjoint_method", "adjoint_rtol", "adjoint_atol", "checkpoint_every",
        "binomial_snapshots"}) {
    ASSERT_TRUE(config.contains(key)) << key;
    config.erase(key);
  }
  ck.metadata[kConfigKey] = config.dump();
  write_checkpoint(path, ck);
  SpiralOptions o = tiny(dir / "run");
  o.resume = true;
  o.solve.controller = ode::Controller::i;  // not the default: refused, naming the default
  const std::string msg = message_of<InvalidArgument>([&] { run(o); });
  EXPECT_TRUE(contains(msg, "--controller = i differs from the checkpoint's pi")) << msg;
  o.solve.controller = SpiralOptions{}.solve.controller;
  o.iters = 6;
  EXPECT_EQ(run(o).iterations, 6);
}

TEST(SpiralBadInput, ResumeBelowTheCheckpointsIterationNamesBoth) {
  TempDir dir{"spiral_bad"};
  run(tiny(dir / "run"));
  SpiralOptions o = tiny(dir / "run");
  o.resume = true;
  o.iters = 3;
  const std::string msg = message_of<InvalidArgument>([&] { run(o); });
  EXPECT_TRUE(contains(msg, "--iters = 3 is below the checkpoint's iteration 4")) << msg;
  EXPECT_TRUE(contains(msg, "accepted: --iters >= 4")) << msg;
}

// ---- malformed and mismatched checkpoints -------------------------------------------------------

struct Tamper {
  const char* what;
  std::function<void(Checkpoint&)> change;
  const char* message_part;
};

template <class T>
void map_values(Checkpoint& c, const std::string& name, const std::function<T(T)>& f) {
  for (Tensor& t : c.tensors)
    if (t.name == name) {
      std::vector<T> v = t.values<T>();
      for (T& x : v) x = f(x);
      t = Tensor::of<T>(t.name, t.shape, std::span<const T>(v));
    }
}

TEST(SpiralBadInput, ResumeRefusesMalformedOrMismatchedCheckpointsNamingFileAndProblem) {
  const auto set_meta = [](const char* key, std::string value) {
    return [key, value](Checkpoint& c) { c.metadata[key] = value; };
  };
  const auto drop_meta = [](const char* key) {
    return [key](Checkpoint& c) { c.metadata.erase(key); };
  };
  const std::vector<Tamper> cases = {
      {"iteration not a number", set_meta(kIterationKey, "four"),
       "metadata 'iteration' = 'four' is not an integer"},
      {"iteration with trailing text", set_meta(kIterationKey, "4abc"), "is not an integer"},
      {"iteration negative", set_meta(kIterationKey, "-3"),
       "metadata 'iteration' = -3 is out of range"},
      {"iteration missing", drop_meta(kIterationKey), "no metadata 'iteration'"},
      {"steps not a number", set_meta(kOptimizerStepsKey, "1e3"), "'optimizer.num_steps' = '1e3'"},
      {"steps disagree", set_meta(kOptimizerStepsKey, "3"), "one optimizer step per iteration"},
      {"lr not a number", set_meta(kOptimizerLrKey, "fast"),
       "'optimizer.learning_rate' = 'fast' is not a number"},
      {"lr nan", set_meta(kOptimizerLrKey, "nan"), "accepted: a finite number >= 0"},
      {"rng state", set_meta(kRngStateKey, "1 2 3"), "is not a std::mt19937_64 state"},
      {"config missing", drop_meta(kConfigKey), "no metadata 'config'"},
      {"config not JSON", set_meta(kConfigKey, "{batch_size: 20"),
       "metadata 'config' is not a JSON object"},
      {"config of another program",
       set_meta(kConfigKey, R"({"model":"odenet","batch_size":128,"lr":0.1})"),
       "it is not a checkpoint of spiral"},
      {"optimizer of another kind", set_meta(kOptimizerKey, "adam"),
       "the state is of optimizer 'adam'"},
      {"NaN parameter",
       [](Checkpoint& c) {
         map_values<float>(c, "params.1.weight",
                           [](float) { return std::numeric_limits<float>::quiet_NaN(); });
       },
       "tensor 'params.1.weight' holds nan at index 0"},
      {"Inf optimizer state",
       [](Checkpoint& c) {
         map_values<float>(c, "optim.square_avg",
                           [](float) { return std::numeric_limits<float>::infinity(); });
       },
       "tensor 'optim.square_avg' holds inf at index 0"},
      {"parameters of another dtype",
       [](Checkpoint& c) {
         for (Tensor& t : c.tensors)
           if (t.name.starts_with(kParamsPrefix)) {
             const auto v = t.values<float>();
             const std::vector<double> d(v.begin(), v.end());
             t = Tensor::of<double>(t.name, t.shape, std::span<const double>(d));
           }
       },
       "holds F64 but this run trains in F32"},
      {"parameters of another model",
       [](Checkpoint& c) {
         for (Tensor& t : c.tensors)
           if (t.name == "params.1.weight") {
             const std::vector<float> v(60, 0.f);
             t = Tensor::of<float>(t.name, {30, 2}, std::span<const float>(v));
           }
       },
       "tensor 'params.1.weight' has shape [30, 2] but the model's view has [50, 2]"},
      {"a parameter missing",
       [](Checkpoint& c) {
         std::erase_if(c.tensors, [](const Tensor& t) { return t.name == "params.3.bias"; });
       },
       "no tensor 'params.3.bias'"},
      {"optimizer buffer of another length",
       [](Checkpoint& c) {
         for (Tensor& t : c.tensors)
           if (t.name == "optim.square_avg") {
             const std::vector<float> v(10, 0.f);
             t = Tensor::of<float>(t.name, {10}, std::span<const float>(v));
           }
       },
       "optimizer buffer 'optim.square_avg' has 10 entries but the model has 252 parameters"},
  };
  TempDir dir{"spiral_bad"};
  run(tiny(dir / "good"));
  const Checkpoint good = read_checkpoint(dir / "good/checkpoint.safetensors");
  for (const auto& c : cases) {
    const fs::path out = dir / "run";
    fs::remove_all(out);
    fs::copy(dir / "good", out);
    Checkpoint bad = good;
    c.change(bad);
    write_checkpoint(out / "checkpoint.safetensors", bad);
    const Snapshot before(out);
    SpiralOptions o = tiny(out);
    o.resume = true;
    o.iters = 8;
    std::string msg;
    try {
      run(o);
      ADD_FAILURE() << c.what << ": resumed";
    } catch (const IoError& e) {
      msg = e.what();
    } catch (const InvalidArgument& e) {
      msg = e.what();
    }
    EXPECT_TRUE(contains(msg, "checkpoint '" + (out / "checkpoint.safetensors").string()) ||
                contains(msg, "('" + (out / "checkpoint.safetensors").string()))
        << c.what << ": " << msg;
    EXPECT_TRUE(contains(msg, c.message_part)) << c.what << ": " << msg;
    EXPECT_TRUE(Snapshot(out) == before) << c.what;
  }
}

TEST(SpiralBadInput, ResumeRefusesATruncatedCheckpoint) {
  TempDir dir{"spiral_bad"};
  run(tiny(dir / "run"));
  const fs::path ckpt = dir / "run/checkpoint.safetensors";
  const std::string bytes = read_file(ckpt);
  for (const std::size_t keep : {std::size_t(5), std::size_t(100), bytes.size() - 8}) {
    {
      std::ofstream out(ckpt, std::ios::binary | std::ios::trunc);
      out << bytes.substr(0, keep);
    }
    SpiralOptions o = tiny(dir / "run");
    o.resume = true;
    const std::string msg = message_of<IoError>([&] { run(o); });
    EXPECT_TRUE(contains(msg, "checkpoint '" + ckpt.string() + "'")) << keep << ": " << msg;
  }
}

// ---- divergence ---------------------------------------------------------------------------------

// Regression (issue 21): `--lr 1e30` ended with exit 0 and null losses, or only with the solver's
// "step size underflow", naming neither the iteration nor the learning rate.
TEST(SpiralBadInput, ADivergingRunStopsNamingTheIterationAndTheLearningRate) {
  TempDir dir{"spiral_bad"};
  for (const double lr : {1e30, 1e3}) {
    SpiralOptions o = tiny(dir / ("lr" + std::to_string(lr)));
    o.iters = 50;
    o.test_freq = 20;
    o.lr = lr;
    const std::string msg = message_of<SolveError>([&] { run(o); });
    EXPECT_TRUE(contains(msg, "spiral: ")) << msg;
    EXPECT_TRUE(contains(msg, "iteration ")) << msg;
    EXPECT_TRUE(contains(msg, "try a lower --lr")) << msg;
    EXPECT_TRUE(contains(msg, "no checkpoint was written")) << msg;
    EXPECT_FALSE(fs::exists(o.out / "checkpoint.safetensors")) << lr;
  }
}

// A runaway solve (a diverging field takes millions of steps, and the direct method keeps each
// one) stops at --max-steps with the iteration and both likely causes named.
TEST(SpiralBadInput, ASolveThatReachesMaxStepsNamesTheIterationAndTheCap) {
  TempDir dir{"spiral_bad"};
  SpiralOptions o = tiny(dir / "run");
  o.solve.max_num_steps = 3;  // the whole-trajectory solve takes hundreds
  const std::string msg = message_of<SolveError>([&] { run(o); });
  EXPECT_TRUE(contains(msg, "spiral: iteration ")) << msg;
  EXPECT_TRUE(contains(msg, "odeint: max_num_steps = 3 reached")) << msg;
  EXPECT_TRUE(contains(msg, "--max-steps")) << msg;
  EXPECT_TRUE(contains(msg, "training may have diverged: try a lower --lr (now 0.001)")) << msg;
}

// A checkpoint with finite but huge parameters (what a run writes just before it blows up): the
// resumed run diverges in its first step, and the checkpoint it started from stays as it was.
TEST(SpiralBadInput, ADivergingRunLeavesTheLastGoodCheckpointUnchanged) {
  TempDir dir{"spiral_bad"};
  run(tiny(dir / "run"));
  const fs::path ckpt = dir / "run/checkpoint.safetensors";
  Checkpoint ck = read_checkpoint(ckpt);
  for (const char* name : {"params.1.weight", "params.3.weight"})
    map_values<float>(ck, name, [](float x) { return x * 1e15f; });
  write_checkpoint(ckpt, ck);
  const Snapshot before(dir / "run");
  SpiralOptions o = tiny(dir / "run");
  o.resume = true;
  o.iters = 12;
  const std::string msg = message_of<SolveError>([&] { run(o); });
  EXPECT_TRUE(contains(msg, "iteration 5")) << msg;
  EXPECT_TRUE(contains(
      msg, "the last good checkpoint, of iteration 4, is unchanged in '" + ckpt.string() + "'"))
      << msg;
  EXPECT_TRUE(contains(msg, "try a lower --lr (now 0.001)")) << msg;
  EXPECT_TRUE(Snapshot(dir / "run") == before);
}

}  // namespace
}  // namespace neuralode::apps
