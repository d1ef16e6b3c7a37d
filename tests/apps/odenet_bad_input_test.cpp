// Issue 21, bad input to train_odenet / bench_odenet / odenet_table: options out of range or not
// applying to the model, empty or too small data sets, occupied and unusable run directories,
// resuming with other options or from a damaged checkpoint, divergence, signals, and wrongly
// typed run files. Data: a tiny MNIST-style set of 12x12 images written here per test.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "neuralode/apps/odenet.hpp"
#include "neuralode/error.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "neuralode/train/image_data.hpp"
#include "support/expect_error.hpp"
#include "support/stripe_images.hpp"
#include "support/temp_dir.hpp"

using neuralode::test_support::message_of;

namespace neuralode::apps {
using namespace neuralode::train;
namespace {

using neuralode::test_support::write_stripe_split;

namespace fs = std::filesystem;
using test_support::read_file;
using test_support::TempDir;

// A run directory and a data directory inside one TempDir; 24 training images in batches of 8
// (3 iterations an epoch), 8 test images, no crops, quiet.
struct Tiny {
  TempDir tmp{"odenetbad"};
  OdeNetOptions o;
  explicit Tiny(const std::string& model = "resnet", std::uint32_t train = 24,
                std::uint32_t test = 8) {
    fs::create_directories(tmp / "data");
    write_stripe_split(tmp / "data", "train", train);
    write_stripe_split(tmp / "data", "t10k", test);
    o.model = model;
    o.data = (tmp / "data").string();
    o.epochs = 2;
    o.batch_size = 8;
    o.lr = 0.05;
    o.augment = false;
    o.quiet = true;
    o.figures = false;
    o.out = tmp / "run";
  }
};

#define EXPECT_MENTIONS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

std::string validate_message(const OdeNetOptions& o) {
  return message_of<InvalidArgument>([&] { o.validate(); });
}

TEST(OdeNetBadInput, EveryNumericOptionIsRangeChecked) {
  OdeNetOptions o;
  o.lr = std::nan("");
  EXPECT_MENTIONS(validate_message(o), "--lr = nan; accepted: a finite number > 0");
  o = {}, o.lr = 1e308, o.batch_size = 1 << 20;
  EXPECT_MENTIONS(validate_message(o), "is not a finite number");
  o = {}, o.solve.rtol = o.solve.atol = 1e-9;
  EXPECT_MENTIONS(validate_message(o), "--tol = 1e-09; accepted: a finite number >= 1.2e-07");
  o = {}, o.solve.rtol = o.solve.atol = INFINITY;
  EXPECT_MENTIONS(validate_message(o), "--tol = inf");
  o = {}, o.threads = 5000;
  EXPECT_MENTIONS(validate_message(o), "--threads = 5000; accepted: an integer in [1, 1024]");
  o = {}, o.batch_size = 0;
  EXPECT_MENTIONS(validate_message(o), "--batch-size = 0");
  o = {}, o.train_size = -1;
  EXPECT_MENTIONS(validate_message(o), "--train-size = -1");
  o = {}, o.test_size = -2;
  EXPECT_MENTIONS(validate_message(o), "--test-size = -2");
  o = {}, o.stop_after = -1;
  EXPECT_MENTIONS(validate_message(o), "--stop-after = -1");
  o = {}, o.data = "";
  EXPECT_MENTIONS(validate_message(o), "--data is empty");
  o = {}, o.grad.method = "magic";
  EXPECT_MENTIONS(validate_message(o), "--grad: unknown gradient method 'magic'; accepted:");
  o = {}, o.solve.method = "rk45";
  EXPECT_MENTIONS(validate_message(o), "--method:");
  EXPECT_NO_THROW(OdeNetOptions{}.validate());
}

// Issue 21: --grad was not validated for --model resnet.
TEST(OdeNetBadInput, ResNetRefusesOptionsOfTheOdeBlock) {
  OdeNetOptions o;
  o.model = "resnet";
  o.grad.method = "adjoint";
  EXPECT_MENTIONS(validate_message(o), "--grad adjoint does not apply to --model resnet");
  o.grad.method = "magic";
  EXPECT_MENTIONS(validate_message(o), "--grad magic does not apply to --model resnet");
  o.grad.method = "direct";
  EXPECT_NO_THROW(o.validate());
  o.grad.method = "", o.solve.method = "rk4";
  EXPECT_MENTIONS(validate_message(o), "--method rk4 does not apply to --model resnet");
  o.solve.method = "dopri5", o.solve.rtol = o.solve.atol = 1e-5;
  EXPECT_MENTIONS(validate_message(o), "--tol 1e-05 does not apply to --model resnet");
}

// Issue 21: an empty test set printed "test accuracy -nan %".
TEST(OdeNetBadInput, EmptySetsAndSizesBeyondTheDataAreRefused) {
  {
    Tiny t("resnet", 24, 0);
    EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(t.o, std::cout); }),
                    "the test set in");
    EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(t.o, std::cout); }),
                    "has 0 images; accepted: at least 1");
    EXPECT_FALSE(fs::exists(t.o.out / "metrics.jsonl"));
  }
  Tiny t;
  t.o.train_size = 25;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(t.o, std::cout); }),
                  "--train-size = 25 but the training set in");
  t.o.train_size = 0, t.o.test_size = 9;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(t.o, std::cout); }),
                  "has only 8 images; accepted: 0 (all) .. 8");
}

TEST(OdeNetBadInput, MissingDataAndUnusableOutAreNamedBeforeWork) {
  Tiny t;
  OdeNetOptions o = t.o;
  o.out = "";
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(o, std::cout); }),
                  "--out is empty");
  std::ofstream(t.tmp / "file") << "x";
  o.out = t.tmp / "file" / "run";
  EXPECT_MENTIONS(message_of<IoError>([&] { train_odenet(o, std::cout); }), "is a file");
  o = t.o;
  o.data = (t.tmp / "no-such-data").string();
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(o, std::cout); }), "no-such-data");
}

// Issue 21: a new run into an existing run directory truncated its metrics.
TEST(OdeNetBadInput, NewRunIntoAnExistingRunIsRefusedAndChangesNothing) {
  Tiny t;
  t.o.epochs = 1;
  train_odenet(t.o, std::cout);
  const std::string metrics = read_file(t.o.out / "metrics.jsonl");
  const std::string ckpt = read_file(t.o.out / "checkpoint.safetensors");
  ASSERT_FALSE(metrics.empty());
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(t.o, std::cout); }),
                  "already holds a run");
  EXPECT_EQ(read_file(t.o.out / "metrics.jsonl"), metrics);
  EXPECT_EQ(read_file(t.o.out / "checkpoint.safetensors"), ckpt);
  // --resume into a directory without a checkpoint says so.
  OdeNetOptions fresh = t.o;
  fresh.out = t.tmp / "empty-run";
  fresh.resume = true;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(fresh, std::cout); }),
                  "there is no checkpoint to resume from");
}

// Issue 21: --resume with another --batch-size dropped earlier epochs from metrics.jsonl; with
// another --lr it would record a rate it did not use.
TEST(OdeNetBadInput, ResumeWithOptionsOtherThanTheRunsIsRefusedNamingBoth) {
  Tiny t;
  t.o.stop_after = 1;
  train_odenet(t.o, std::cout);
  const std::string metrics = read_file(t.o.out / "metrics.jsonl");
  const std::string ckpt = read_file(t.o.out / "checkpoint.safetensors");
  OdeNetOptions r = t.o;
  r.resume = true;
  r.stop_after = 0;
  r.batch_size = 4;
  const std::string m = message_of<InvalidArgument>([&] { train_odenet(r, std::cout); });
  EXPECT_MENTIONS(m, "--batch-size (batch_size = 4) differs from the run being resumed");
  EXPECT_MENTIONS(m, "batch_size = 8");
  r = t.o, r.resume = true, r.lr = 0.01;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(r, std::cout); }),
                  "--lr (lr = 0.01) differs from the run being resumed (lr = 0.05");
  r = t.o, r.resume = true, r.augment = true;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(r, std::cout); }),
                  "--no-augment (augment = true)");
  EXPECT_EQ(read_file(t.o.out / "metrics.jsonl"), metrics);
  EXPECT_EQ(read_file(t.o.out / "checkpoint.safetensors"), ckpt);
  // The same options continue (--threads may differ: it is not among the recorded options
  // compared; not exercised here, where two threads on a busy test machine cost seconds).
  r = t.o, r.resume = true, r.stop_after = 0, r.threads = 1;
  EXPECT_EQ(train_odenet(r, std::cout).epochs.size(), 1u);
}

// Checkpoints written before the solver and gradient options were nested (issue 13) hold only
// model, method, tol and grad of them: they resume, compared with the defaults (atol with the
// recorded tol, as rtol = atol = --tol then).
TEST(OdeNetBadInput, ACheckpointWithoutTheOptionsAddedLaterResumesAsIfItHeldTheDefaults) {
  Tiny t("odenet");
  t.o.stop_after = 1;
  train_odenet(t.o, std::cout);
  const fs::path path = t.o.out / "checkpoint.safetensors";
  Checkpoint ck = read_checkpoint(path);
  auto config = nlohmann::json::parse(ck.metadata.at(kConfigKey));
  for (const char* key :
       {"rtol", "atol", "step_size", "first_step", "max_num_steps", "controller", "pi_beta",
        "pcoeff", "icoeff", "dcoeff", "safety", "ifactor", "dfactor", "adjoint_method",
        "adjoint_rtol", "adjoint_atol", "adjoint_norm", "checkpoint_every", "binomial_snapshots"}) {
    ASSERT_TRUE(config.contains(key)) << key;
    config.erase(key);
  }
  ck.metadata[kConfigKey] = config.dump(2);
  write_checkpoint(path, ck);
  OdeNetOptions r = t.o;
  r.resume = true, r.stop_after = 0;
  r.solve.controller = ode::Controller::pi;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(r, std::cout); }),
                  "--controller (controller = \"pi\") differs from the run being resumed "
                  "(controller = \"i\"");
  r.solve.controller = OdeNetOptions{}.solve.controller;
  r.solve.atol = 1e-4;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { train_odenet(r, std::cout); }),
                  "--atol (atol = 0.0001) differs from the run being resumed (atol = 0.001");
  r.solve.atol = r.solve.rtol;
  EXPECT_EQ(train_odenet(r, std::cout).epochs.size(), 1u);
}

// Issue 21: a checkpoint with non-numeric metadata ended in "internal error: stoi".
TEST(OdeNetBadInput, DamagedCheckpointMetadataIsNamed) {
  Tiny t;
  t.o.stop_after = 1;
  train_odenet(t.o, std::cout);
  const fs::path path = t.o.out / "checkpoint.safetensors";
  const Checkpoint good = read_checkpoint(path);
  OdeNetOptions r = t.o;
  r.resume = true;
  auto with = [&](const std::string& key, const std::string& value) {
    Checkpoint c = good;
    c.metadata[key] = value;
    write_checkpoint(path, c);
    return message_of<IoError>([&] { train_odenet(r, std::cout); });
  };
  std::string m = with("epoch", "one");
  EXPECT_MENTIONS(m, "metadata 'epoch' = 'one' is not an integer; accepted: an integer in [0, 2]");
  EXPECT_MENTIONS(m, "checkpoint.safetensors");
  EXPECT_MENTIONS(with("epoch", "99999999999999999999"), "metadata 'epoch'");
  EXPECT_MENTIONS(with("epoch", "2"), "is at iteration 3 but at epoch 2");
  EXPECT_MENTIONS(with("config", "[1, 2"), "metadata 'config' is not a JSON object");
  EXPECT_MENTIONS(with("epoch_batches", "x"), "metadata 'epoch_batches' = 'x'");
  // Non-finite parameters are not resumed (they would train NaN).
  Checkpoint c = good;
  for (Tensor& tensor : c.tensors)
    if (tensor.name.starts_with("params.") && tensor.dtype == DType::F32) {
      const float nan = std::nanf("");
      std::memcpy(tensor.data.data(), &nan, sizeof nan);
      break;
    }
  write_checkpoint(path, c);
  // (get_params may refuse them itself, naming the tensor; train_odenet checks them too.)
  m = message_of<IoError>([&] { train_odenet(r, std::cout); });
  EXPECT_MENTIONS(m, "checkpoint.safetensors");
  EXPECT_TRUE(m.find("non-finite") != std::string::npos || m.find("nan") != std::string::npos) << m;
}

// Issue 21: a diverging run (--lr 1e30) ended with exit 0 and a null test loss.
TEST(OdeNetBadInput, DivergenceStopsNamingTheIterationAndWritesNothingForIt) {
  Tiny t("odenet");
  t.o.lr = 1e30;
  const std::string m = message_of<Error>([&] { train_odenet(t.o, std::cout); });
  EXPECT_MENTIONS(m, "train odenet: iteration ");
  EXPECT_MENTIONS(m, "(epoch 1, batch ");
  EXPECT_MENTIONS(m, "diverged");
  EXPECT_MENTIONS(m, "lower --lr (e.g. --lr 1e+29)");
  EXPECT_MENTIONS(m, "no checkpoint was written yet");
  EXPECT_FALSE(fs::exists(t.o.out / "checkpoint.safetensors"));
  EXPECT_EQ(read_file(t.o.out / "metrics.jsonl"), "");
}

// A stream that raises a signal the first time `trigger` appears in what is written to it: a
// deterministic stand-in for Ctrl-C at a chosen moment of the run (train_odenet writes the
// model's description before the first iteration and one line after each epoch).
class SignalOnText : public std::stringbuf {
 public:
  SignalOnText(std::string trigger, int signal) : trigger_(std::move(trigger)), signal_(signal) {}

 protected:
  int sync() override {
    if (!fired_ && str().find(trigger_) != std::string::npos) {
      fired_ = true;
      std::raise(signal_);
    }
    return 0;
  }

 private:
  std::string trigger_;
  int signal_;
  bool fired_ = false;
};

std::vector<nlohmann::json> metrics_lines(const fs::path& path) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// Issue 21: SIGINT/SIGTERM lost the work since the last checkpoint. Stopped inside epoch 1 (after
// its first iteration) and after epoch 1, each resumed run ends with the metrics of the run that
// was never stopped, bit for bit.
TEST(OdeNetBadInput, SignalWritesACheckpointAndResumeMatchesTheUninterruptedRun) {
  Tiny straight;
  train_odenet(straight.o, std::cout);
  const auto expected = metrics_lines(straight.o.out / "metrics.jsonl");
  ASSERT_EQ(expected.size(), 2u);
  struct Case {
    const char* trigger;
    int signal;
    const char* where;
  };
  for (const Case& c : {Case{"parameters", SIGINT, "iteration 1 (epoch 1, batch 1 of 3)"},
                        Case{"epoch 1/2", SIGTERM, "after epoch 1 (iteration 3)"}}) {
    Tiny t;
    t.o.quiet = false;
    SignalOnText buf(c.trigger, c.signal);
    std::ostream log(&buf);
    log << std::unitbuf;  // sync after every write
    try {
      train_odenet(t.o, log);
      ADD_FAILURE() << "not interrupted at " << c.trigger;
    } catch (const Interrupted& e) {
      EXPECT_EQ(e.signal_number(), c.signal);
      EXPECT_MENTIONS(std::string(e.what()), c.where);
      EXPECT_MENTIONS(std::string(e.what()), "continue with --resume");
    }
    ASSERT_TRUE(fs::exists(t.o.out / "checkpoint.safetensors"));
    t.o.resume = true;
    t.o.quiet = true;
    train_odenet(t.o, std::cout);
    const auto got = metrics_lines(t.o.out / "metrics.jsonl");
    ASSERT_EQ(got.size(), expected.size()) << c.trigger;
    for (std::size_t i = 0; i < got.size(); ++i)
      for (const char* key : {"epoch", "iteration", "train_loss", "train_accuracy", "test_loss",
                              "nfe_forward", "nfe_backward", "lr"})
        EXPECT_EQ(got[i][key], expected[i][key]) << c.trigger << " line " << i << " " << key;
  }
}

TEST(OdeNetBenchBadInput, DataMustBeReadableAndHoldABatch) {
  Tiny t;
  OdeNetBenchOptions b;
  b.run = t.o;
  b.iters = 1, b.warmup = 0;
  b.run.data = (t.tmp / "no-such-dir").string();
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { bench_odenet(b); }), "no-such-dir");
  b.run.data = t.o.data;
  b.run.batch_size = 32;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { bench_odenet(b); }),
                  "--batch-size = 32 but the training set in");
  b.iters = 0;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { bench_odenet(b); }), "--iters = 0");
}

TEST(OdeNetBenchBadInput, RandomPixelsOnlyWhenAskedOrForTheMissingDefault) {
  OdeNetBenchOptions b;
  b.run.model = "resnet";
  b.run.batch_size = 2;
  b.iters = 1, b.warmup = 0;
  b.run.data = "random";
  EXPECT_EQ(bench_odenet(b).data, "random");
  b.run.data = "fashion-mnist";
  b.allow_random_data = false;
  if (!fs::exists(kFashionMnistDir)) {
    EXPECT_MENTIONS(message_of<InvalidArgument>([&] { bench_odenet(b); }),
                    "Fashion-MNIST is not installed");
  }
}

TEST(OdeNetTableBadInput, WronglyTypedFilesNameTheFileAndTheKey) {
  Tiny t;
  t.o.epochs = 1;
  train_odenet(t.o, std::cout);
  const fs::path config = t.o.out / "config.json";
  auto j = nlohmann::json::parse(read_file(config));
  j["model"] = 5;
  std::ofstream(config) << j.dump();
  std::string m = message_of<IoError>([&] { odenet_table({t.o.out}); });
  EXPECT_MENTIONS(m, "config.json: 'model' is a number (5); accepted: a string");
  j["model"] = "resnet", j["num_params"] = "many";
  std::ofstream(config) << j.dump();
  EXPECT_MENTIONS(message_of<IoError>([&] { odenet_table({t.o.out}); }),
                  "'num_params' is a string (\"many\"); accepted: an integer");
  std::ofstream(config) << "[1, 2]";
  EXPECT_MENTIONS(message_of<IoError>([&] { odenet_table({t.o.out}); }),
                  "holds an array; accepted: a JSON object");
  j["num_params"] = 1;
  std::ofstream(config) << j.dump();
  std::ofstream(t.o.out / "metrics.jsonl") << "{\"epoch\": 1, \"test_error\": \"low\"}\n";
  EXPECT_MENTIONS(message_of<IoError>([&] { odenet_table({t.o.out}); }),
                  "the last epoch's line has no numeric 'test_error'");
  // A trailing slash still names the run.
  std::ofstream(t.o.out / "metrics.jsonl")
      << "{\"epoch\": 1, \"test_error\": 0.5, \"nfe_forward\": 1, \"nfe_backward\": 1}\n";
  EXPECT_MENTIONS(odenet_table({t.o.out.string() + "/"}), "| run | resnet |");
}

}  // namespace
}  // namespace neuralode::apps
