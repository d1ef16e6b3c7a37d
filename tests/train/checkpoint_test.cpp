// Checkpoints: the safetensors byte layout, round trips of every dtype, rejection of malformed
// files, atomic replacement (a failed write leaves the previous checkpoint intact), the training
// helpers, an interrupted-and-resumed run that matches the uninterrupted one bit for bit (its
// metrics log included), MetricsLog, and Python reading our files (safetensors_interop.py).
#include "neuralode/train/checkpoint.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "neuralode/error.hpp"
#include "neuralode/train/clip.hpp"
#include "neuralode/train/lr_schedule.hpp"
#include "neuralode/train/metrics_log.hpp"
#include "neuralode/train/optimizer.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

using neuralode::test_support::contains;
using neuralode::test_support::write_bytes;

namespace neuralode::train {
namespace {

namespace fs = std::filesystem;

using test_support::TempDir;

using test_support::read_file;

// A safetensors file from a header text (used as is, unpadded) and data bytes.
std::string raw_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

template <class F>
std::string io_error_of(F&& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no IoError thrown)";
}

// ---- the format ---------------------------------------------------------------------------------

TEST(Checkpoint, BytesFollowTheSafetensorsLayout) {
  // One F32 tensor [1.0f]: u64 LE header length, the JSON header padded with spaces so the data
  // starts at a multiple of 8, then 00 00 80 3f (1.0f little-endian).
  TempDir dir{"ckpt"};
  const std::vector<float> one{1.0f};
  write_checkpoint(dir / "a.safetensors", {Tensor::of<float>("x", {1}, one)}, {{"k", "v"}});
  const std::string bytes = read_file(dir / "a.safetensors");
  ASSERT_GE(bytes.size(), 12u);
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t(std::uint8_t(bytes[i])) << (8 * i);
  EXPECT_EQ((8 + n) % 8, 0u);
  ASSERT_EQ(bytes.size(), 8 + n + 4);
  const std::string header = bytes.substr(8, n);
  const auto j = nlohmann::json::parse(header);  // trailing spaces are valid JSON whitespace
  EXPECT_EQ(j["__metadata__"]["k"], "v");
  EXPECT_EQ(j["x"]["dtype"], "F32");
  EXPECT_EQ(j["x"]["shape"], nlohmann::json::array({1}));
  EXPECT_EQ(j["x"]["data_offsets"], nlohmann::json::array({0, 4}));
  EXPECT_EQ(header.find_last_not_of(' ') + 1, header.rfind('}') + 1);  // padding is spaces
  EXPECT_EQ(bytes.substr(8 + n), std::string("\x00\x00\x80\x3f", 4));
}

TEST(Checkpoint, RoundTripsEveryDtypeShapeAndMetadata) {
  TempDir dir{"ckpt"};
  const std::vector<float> f{1.5f, -2.25f, 3e-38f, 1e38f, 0.0f, -0.0f};
  const std::vector<double> d{1.0 / 3.0, -1e-300};
  const std::vector<std::int64_t> i{-(std::int64_t(1) << 62), 7};
  const std::vector<std::uint8_t> u{0, 1, 254, 255};
  const std::vector<double> scalar{2.5};
  const std::vector<float> empty;
  Checkpoint c;
  c.put(Tensor::of<float>("f", {2, 3}, f));
  c.put(Tensor::of<double>("d", {2}, d));
  c.put(Tensor::of<std::int64_t>("i", {1, 2}, i));
  c.put(Tensor::of<std::uint8_t>("u", {4}, u));
  c.put(Tensor::of<double>("scalar", {}, scalar));
  c.put(Tensor::of<float>("empty", {0, 3}, empty));
  c.metadata = {{"config", R"({"lr": 0.001})"}, {"note", "ünïcode ok"}};
  write_checkpoint(dir / "c.safetensors", c);

  const Checkpoint r = read_checkpoint(dir / "c.safetensors");
  EXPECT_EQ(r.source, (dir / "c.safetensors").string());
  EXPECT_EQ(r.metadata, c.metadata);
  ASSERT_EQ(r.tensors.size(), 6u);
  for (std::size_t k = 0; k < c.tensors.size(); ++k) {
    EXPECT_EQ(r.tensors[k].name, c.tensors[k].name);  // file order is the order written
    EXPECT_EQ(r.tensors[k].dtype, c.tensors[k].dtype);
    EXPECT_EQ(r.tensors[k].shape, c.tensors[k].shape);
    EXPECT_EQ(r.tensors[k].data, c.tensors[k].data);
  }
  EXPECT_EQ(r.at("f").values<float>(), f);
  EXPECT_EQ(r.at("d").values<double>(), d);
  EXPECT_EQ(r.at("i").values<std::int64_t>(), i);
  EXPECT_EQ(r.at("u").values<std::uint8_t>(), u);
  EXPECT_EQ(r.at("scalar").values<double>(), scalar);
  EXPECT_TRUE(r.at("empty").values<float>().empty());
  EXPECT_THROW(r.at("f").values<double>(), InvalidArgument);
  EXPECT_TRUE(contains(io_error_of([&] { r.at("missing"); }), "no tensor 'missing'"));
}

TEST(Checkpoint, WriteRejectsInconsistentTensorsBeforeTouchingTheDisk) {
  TempDir dir{"ckpt"};
  const std::vector<float> v{1, 2};
  Tensor bad = Tensor::of<float>("x", {2}, v);
  bad.shape = {3};
  EXPECT_THROW(write_checkpoint(dir / "a", {bad}, {}), InvalidArgument);
  EXPECT_THROW(write_checkpoint(
                   dir / "a", {Tensor::of<float>("x", {2}, v), Tensor::of<float>("x", {2}, v)}, {}),
               InvalidArgument);
  EXPECT_THROW(write_checkpoint(dir / "a", {Tensor::of<float>("__metadata__", {2}, v)}, {}),
               InvalidArgument);
  EXPECT_THROW(Tensor::of<float>("x", {3}, v), InvalidArgument);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

// ---- malformed files ----------------------------------------------------------------------------

struct Malformed {
  const char* what;
  std::string bytes;
  const char* message_part;
};

TEST(Checkpoint, ReadRejectsMalformedFilesNamingFileAndProblem) {
  const std::string f32x2 = R"("dtype":"F32","shape":[2])";
  const std::string eight(8, '\0');
  std::string huge_length(8, '\0');
  huge_length[5] = 1;  // 2^40 bytes
  std::string longer_than_file(8, '\0');
  longer_than_file[0] = 100;
  const std::vector<Malformed> cases = {
      {"too short", "abc", "file too short (3 bytes)"},
      {"header above 100 MB", huge_length + "{}", "above the 100 MB limit"},
      {"header longer than the file", longer_than_file + "{}", "only 2 bytes follow it"},
      {"malformed JSON", raw_file(R"({"x": {"dtype": )", ""), "malformed JSON header"},
      {"not an object", raw_file("[1, 2]", ""), "not an object"},
      {"unknown dtype",
       raw_file(R"({"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0')),
       "unsupported dtype 'F16'; accepted: F32, F64, I64, U8"},
      {"offsets out of range", raw_file("{\"x\":{" + f32x2 + ",\"data_offsets\":[0,8]}}", "1234"),
       "data_offsets [0, 8] out of range: the data section has 4 bytes"},
      {"offsets reversed", raw_file("{\"x\":{" + f32x2 + ",\"data_offsets\":[8,0]}}", eight),
       "out of range"},
      {"offsets overlapping",
       raw_file("{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + f32x2 +
                    ",\"data_offsets\":[4,12]}}",
                eight + "1234"),
       "overlap"},
      {"shape vs bytes", raw_file("{\"x\":{" + f32x2 + ",\"data_offsets\":[0,4]}}", "1234"),
       "shape [2] of F32 needs 8 bytes but data_offsets [0, 4] hold 4"},
      {"negative dimension",
       raw_file(R"({"x":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})", ""),
       "non-negative integers"},
      {"metadata not strings", raw_file(R"({"__metadata__":{"iteration":17}})", ""),
       "__metadata__['iteration'] is not a string"},
      {"missing offsets", raw_file(R"({"x":{"dtype":"U8","shape":[1]}})", "1"), "data_offsets"},
  };
  TempDir dir{"ckpt"};
  for (const auto& c : cases) {
    const fs::path p = dir / "bad.safetensors";
    write_bytes(p, c.bytes);
    const std::string msg = io_error_of([&] { read_checkpoint(p); });
    EXPECT_TRUE(contains(msg, p.string())) << c.what << ": " << msg;
    EXPECT_TRUE(contains(msg, c.message_part)) << c.what << ": " << msg;
  }
  const std::string missing = io_error_of([&] { read_checkpoint(dir / "nope.safetensors"); });
  EXPECT_TRUE(contains(missing, "cannot open")) << missing;
}

TEST(Checkpoint, ReadsAFileWrittenWithUnpaddedHeaderAndGaps) {
  // Other writers need not pad, and may leave unused bytes between tensors; both are readable.
  TempDir dir{"ckpt"};
  write_bytes(dir / "x", raw_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                                  R"("b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}})",
                                  std::string("\x01\x02\x00\x03", 4)));
  const auto c = read_checkpoint(dir / "x");
  EXPECT_EQ(c.at("a").values<std::uint8_t>(), (std::vector<std::uint8_t>{1, 2}));
  EXPECT_EQ(c.at("b").values<std::uint8_t>(), (std::vector<std::uint8_t>{3}));
}

// ---- atomic replacement -------------------------------------------------------------------------

Checkpoint small_checkpoint(float value) {
  Checkpoint c;
  const std::vector<float> v(16, value);
  c.put(Tensor::of<float>("w", {16}, v));
  put_iteration(c, 1);
  return c;
}

TEST(Checkpoint, FailedWriteLeavesThePreviousCheckpointIntact) {
  TempDir dir{"ckpt"};
  const fs::path path = dir / "run.safetensors";
  write_checkpoint(path, small_checkpoint(1.0f));
  const std::string before = read_file(path);

  // (1) The temporary file cannot be created: its name (".<name>.<pid>.<n>.tmp") is longer than
  // the file system allows (NAME_MAX, 255 bytes) while the checkpoint's own name (250 bytes) is
  // not, so open() fails with ENAMETOOLONG; this binds root too, which ignores permissions. (An
  // RLIMIT_NOFILE of 0 also made open() fail, but it broke UBSan's own checks, which need a pipe.)
  // The previous file under that name is written directly: write_checkpoint cannot create it.
  {
    const fs::path long_path = dir / (std::string(238, 'c') + ".safetensors");
    std::ofstream(long_path, std::ios::binary) << before;
    const std::string msg =
        io_error_of([&] { write_checkpoint(long_path, small_checkpoint(2.0f)); });
    EXPECT_TRUE(contains(msg, long_path.string()) &&
                contains(msg, "cannot create the temporary file"))
        << msg;
    EXPECT_TRUE(contains(msg, "previous checkpoint, if any, is unchanged")) << msg;
    EXPECT_EQ(read_file(long_path), before);
    fs::remove(long_path);  // the later cases count the directory's entries
  }
  std::string msg;

  // (2) The write fails half way: the file size limit (RLIMIT_FSIZE binds root too) is below the
  // checkpoint's size, so write() returns EFBIG. The partial temporary file must be gone.
  {
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    Checkpoint big;
    const std::vector<double> many(100000, 3.0);
    big.put(Tensor::of<double>("big", {100000}, many));
    msg = io_error_of([&] { write_checkpoint(path, big); });
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    EXPECT_TRUE(contains(msg, "writing")) << msg;
  }
  EXPECT_EQ(read_file(path), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1)
      << "a temporary file was left behind";

  // (3) A directory that does not exist: nothing is created anywhere.
  msg = io_error_of(
      [&] { write_checkpoint(dir / "no/such/dir/run.safetensors", small_checkpoint(3)); });
  EXPECT_TRUE(contains(msg, "no/such/dir/run.safetensors")) << msg;

  // (4) A read-only directory, where permissions apply (not as root).
  if (::geteuid() != 0) {
    fs::permissions(dir.path(), fs::perms::owner_write, fs::perm_options::remove);
    msg = io_error_of([&] { write_checkpoint(path, small_checkpoint(4.0f)); });
    fs::permissions(dir.path(), fs::perms::owner_write, fs::perm_options::add);
    EXPECT_TRUE(contains(msg, "cannot create the temporary file")) << msg;
    EXPECT_EQ(read_file(path), before);
  }

  // And a successful write replaces it, leaving no temporary behind.
  write_checkpoint(path, small_checkpoint(5.0f));
  EXPECT_EQ(read_checkpoint(path).at("w").values<float>()[0], 5.0f);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

// ---- what a training run stores -----------------------------------------------------------------

std::vector<nn::ParamView> two_layer_views() {
  // A 2 -> 3 -> 1 MLP's views laid out as Sequential lays them: weight {out, in}, then bias.
  return {
      {"0.weight", {3, 2}, 0}, {"0.bias", {3}, 6}, {"2.weight", {1, 3}, 9}, {"2.bias", {1}, 12}};
}

TEST(Checkpoint, ParamsRoundTripByViewName) {
  const auto views = two_layer_views();
  std::vector<double> params(13);
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = 0.1 * double(i) - 0.6;
  Checkpoint c;
  put_params<double>(c, views, params);
  ASSERT_NE(c.find("params.0.weight"), nullptr);
  EXPECT_EQ(c.at("params.0.weight").shape, (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(c.at("params.2.bias").values<double>(), std::vector<double>{params[12]});

  std::vector<double> back(13, 0.0);
  get_params<double>(c, views, back);
  EXPECT_EQ(back, params);
  // F64 into a float model converts (the nearest floats).
  std::vector<float> as_float(13);
  get_params<float>(c, views, as_float);
  for (std::size_t i = 0; i < 13; ++i) EXPECT_EQ(as_float[i], float(params[i]));
}

TEST(Checkpoint, ParamsOfAnotherModelAreRejectedNamingTheView) {
  const auto views = two_layer_views();
  std::vector<float> params(13, 1.0f);
  Checkpoint c;
  put_params<float>(c, views, params);
  c.source = "run.safetensors";
  auto wider = views;
  wider[0].shape = {4, 2};
  std::string msg = io_error_of([&] { get_params<float>(c, wider, params); });
  EXPECT_TRUE(contains(msg, "run.safetensors") &&
              contains(msg, "'params.0.weight' has shape [3, 2]") &&
              contains(msg, "view has [4, 2]"))
      << msg;
  auto renamed = views;
  renamed[1].name = "1.bias";
  msg = io_error_of([&] { get_params<float>(c, renamed, params); });
  EXPECT_TRUE(contains(msg, "no tensor 'params.1.bias'")) << msg;
  std::vector<float> too_short(5);
  EXPECT_THROW(put_params<float>(c, views, too_short), InvalidArgument);
}

TEST(Checkpoint, OptimizerStateAndRngRoundTripThroughAFile) {
  TempDir dir{"ckpt"};
  Adam<float> adam({.lr = 0.01, .amsgrad = true});
  std::vector<float> p{1, 2, 3}, g{0.5f, -1, 2};
  adam.step(p, g);
  adam.step(p, g);
  adam.set_learning_rate(0.1 / 3);  // not representable in decimal with fewer than 17 digits
  std::mt19937_64 rng(12345);
  for (int k = 0; k < 1000; ++k) rng();

  Checkpoint c;
  put_optimizer_state(c, adam.state());
  put_rng_state(c, rng);
  put_iteration(c, 2);
  write_checkpoint(dir / "o", c);
  const Checkpoint r = read_checkpoint(dir / "o");

  EXPECT_EQ(get_iteration(r), 2);
  const auto s = get_optimizer_state<float>(r);
  EXPECT_EQ(s.optimizer, "adam");
  EXPECT_EQ(s.num_steps, 2);
  EXPECT_EQ(s.learning_rate, 0.1 / 3);
  EXPECT_EQ(s.buffers, adam.state().buffers);
  EXPECT_NE(r.find("optim.max_exp_avg_sq"), nullptr);

  std::mt19937_64 restored;
  get_rng_state(r, restored);
  for (int k = 0; k < 1000; ++k) ASSERT_EQ(restored(), rng()) << "draw " << k;

  Checkpoint bare;
  bare.source = "x.safetensors";
  EXPECT_TRUE(contains(io_error_of([&] { get_iteration(bare); }), "no metadata 'iteration'"));
  bare.metadata[kRngStateKey] = "12 34";
  EXPECT_TRUE(
      contains(io_error_of([&] { get_rng_state(bare, restored); }), "not a std::mt19937_64"));
}

// ---- resume -------------------------------------------------------------------------------------

// A small but complete training loop: linear regression y = w.x + b on 64 fixed points, minibatches
// of 8 drawn with the run's mt19937_64, Adam with L2, a cosine schedule, gradient clipping; metrics
// to a JSON-lines log. train_until(n) continues from `iteration` up to n.
struct TrainingRun {
  std::vector<nn::ParamView> views{{"0.weight", {1, 3}, 0}, {"0.bias", {1}, 3}};
  std::vector<float> params{0.1f, -0.2f, 0.3f, 0.0f};
  std::unique_ptr<Optimizer<float>> opt =
      make_optimizer<float>("adam", {.lr = 0.05, .weight_decay = 1e-3});
  CosineAnnealingLr schedule{0.05, {.t_max = 40}};
  std::mt19937_64 rng{2024};
  std::int64_t iteration = 0;

  static float x_of(int i, int j) { return std::sin(0.7f * float(i) + 1.3f * float(j)); }
  static float y_of(int i) { return 2 * x_of(i, 0) - x_of(i, 1) + 0.5f * x_of(i, 2) + 0.25f; }

  void train_until(std::int64_t last, MetricsLog& log) {
    std::vector<float> g(4);
    for (; iteration < last; ++iteration) {
      std::fill(g.begin(), g.end(), 0.0f);
      float loss = 0;
      for (int k = 0; k < 8; ++k) {
        const int i = static_cast<int>(rng() % 64);  // raw draws: no distribution state
        float r = params[3] - y_of(i);
        for (int j = 0; j < 3; ++j) r += params[j] * x_of(i, j);
        loss += r * r / 8;
        for (int j = 0; j < 3; ++j) g[j] += 2 * r * x_of(i, j) / 8;
        g[3] += 2 * r / 8;
      }
      const double norm = clip_grad_norm<float>(g, 1.0);
      opt->set_learning_rate(schedule.lr_at(iteration));
      opt->step(params, g);
      log.write(MetricsRecord()
                    .add("iteration", iteration + 1)
                    .add("loss", loss)
                    .add("grad_norm", norm)
                    .add("lr", opt->learning_rate()));
    }
  }

  void save(const fs::path& path) const {
    Checkpoint c;
    put_params<float>(c, views, params);
    put_optimizer_state(c, opt->state());
    put_rng_state(c, rng);
    put_iteration(c, iteration);
    c.metadata[kConfigKey] = R"({"optimizer":"adam","lr":0.05,"schedule":"cosine"})";
    write_checkpoint(path, c);
  }

  void load(const fs::path& path) {
    const Checkpoint c = read_checkpoint(path);
    get_params<float>(c, views, params);
    opt->load_state(get_optimizer_state<float>(c));
    get_rng_state(c, rng);
    iteration = get_iteration(c);
  }
};

TEST(Checkpoint, ResumedRunMatchesTheUninterruptedRunBitForBit) {
  TempDir dir{"ckpt"};
  // Uninterrupted: 40 iterations.
  TrainingRun straight;
  {
    MetricsLog log(dir / "straight.jsonl");
    straight.train_until(40, log);
  }
  // Interrupted: checkpoint at 17, keeps going to 23 (and logs those), then "crashes".
  {
    TrainingRun first;
    MetricsLog log(dir / "resumed.jsonl");
    first.train_until(17, log);
    first.save(dir / "ckpt.safetensors");
    first.train_until(23, log);
  }
  // Resumed in a fresh process state from the file; the log drops lines 18..23 and continues.
  TrainingRun resumed;
  resumed.params.assign(4, 9.0f);  // garbage, to be overwritten
  resumed.load(dir / "ckpt.safetensors");
  EXPECT_EQ(resumed.iteration, 17);
  {
    MetricsLog log(dir / "resumed.jsonl", {.append = true, .drop_after_iteration = 17});
    resumed.train_until(40, log);
  }
  EXPECT_EQ(resumed.params, straight.params);  // exact: same operations on the same bits
  EXPECT_EQ(resumed.opt->state().buffers, straight.opt->state().buffers);
  EXPECT_EQ(resumed.rng, straight.rng);
  EXPECT_EQ(read_file(dir / "resumed.jsonl"), read_file(dir / "straight.jsonl"));
}

// ---- MetricsLog ---------------------------------------------------------------------------------

TEST(MetricsLog, WritesOneFlushedJsonObjectPerLine) {
  TempDir dir{"ckpt"};
  MetricsLog log(dir / "m.jsonl");
  log.write(MetricsRecord()
                .add("iteration", std::int64_t{1})
                .add("loss", 0.25)
                .add("nfe", 26u)
                .add("method", "dopri5")
                .add("ok", true)
                .add("diverged", NAN)
                .add_json("stats", R"({"accepted": 10, "rejected": 2})"));
  // Flushed: readable before the log is closed.
  EXPECT_EQ(read_file(dir / "m.jsonl"),
            R"({"iteration":1,"loss":0.25,"nfe":26,"method":"dopri5","ok":true,"diverged":null,)"
            R"("stats":{"accepted":10,"rejected":2}})"
            "\n");
  log.write(MetricsRecord().add("iteration", 2));
  EXPECT_EQ(log.num_lines_written(), 2);
  EXPECT_THROW(log.write(MetricsRecord().add_json("bad", "{")), InvalidArgument);
}

TEST(MetricsLog, TruncatesANewRunAndAppendsWhenResuming) {
  TempDir dir{"ckpt"};
  write_bytes(dir / "m.jsonl", "{\"iteration\":1}\n");
  {
    MetricsLog log(dir / "m.jsonl", {.append = true});
    log.write(MetricsRecord().add("iteration", 2));
  }
  EXPECT_EQ(read_file(dir / "m.jsonl"), "{\"iteration\":1}\n{\"iteration\":2}\n");
  {
    MetricsLog log(dir / "m.jsonl");
    log.write(MetricsRecord().add("iteration", 1));
  }
  EXPECT_EQ(read_file(dir / "m.jsonl"), "{\"iteration\":1}\n");
  // drop_after_iteration also drops a torn last line.
  write_bytes(dir / "m.jsonl", "{\"iteration\":1}\n{\"iteration\":2}\n{\"iteration\":3}\n{\"itera");
  { MetricsLog log(dir / "m.jsonl", {.append = true, .drop_after_iteration = 2}); }
  EXPECT_EQ(read_file(dir / "m.jsonl"), "{\"iteration\":1}\n{\"iteration\":2}\n");
  // Another iteration key (the spiral demo's lines count in "iter").
  write_bytes(dir / "m.jsonl", "{\"iter\":20}\n{\"iter\":40}\n{\"iter\":60}\n");
  {
    MetricsLog log(dir / "m.jsonl",
                   {.append = true, .drop_after_iteration = 40, .iteration_key = "iter"});
  }
  EXPECT_EQ(read_file(dir / "m.jsonl"), "{\"iter\":20}\n{\"iter\":40}\n");
  const std::string msg = io_error_of([&] { MetricsLog log(dir / "no/dir/m.jsonl"); });
  EXPECT_TRUE(contains(msg, "no/dir/m.jsonl")) << msg;
}

// ---- Python reads our checkpoints ---------------------------------------------------------------

// Writes the tensors tests/train/safetensors_interop.py expects (keep the two in step), runs the
// script on them with `python3` (or $NEURALODE_PYTHON) and fails with its output unless it reads
// them back exactly, with safetensors.numpy and with plain numpy + json + struct; then reads the
// same tensors as Python's safetensors wrote them. Fails (never skips) without Python, numpy or
// safetensors, saying which is missing: CI must have them.
TEST(SafetensorsInterop, PythonReadsOurCheckpointExactly) {
  const fs::path script = fs::path(__FILE__).parent_path() / "safetensors_interop.py";
  ASSERT_TRUE(fs::exists(script)) << script << " is missing";
  const char* env = std::getenv("NEURALODE_PYTHON");
  const std::string python = env && *env ? env : "python3";
  if (std::system(("command -v '" + python + "' >/dev/null 2>&1").c_str()) != 0)
    FAIL() << "'" << python << "' was not found on PATH. The interop test needs Python 3 with "
           << "numpy and safetensors: install them (python3 -m pip install numpy safetensors; "
           << "see docs/training.md) or point NEURALODE_PYTHON at an interpreter that has them.";

  TempDir dir{"ckpt"};
  const std::vector<float> weight{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
  const std::vector<double> bias{1.0 / 3.0, -2.5, 1e-300};
  const std::vector<std::int64_t> counts{-(std::int64_t(1) << 40), 0, 7, std::int64_t(1) << 62};
  const std::vector<std::uint8_t> mask{0, 1, 127, 255};
  const std::vector<double> scalar{3.25};
  Checkpoint c;
  c.put(Tensor::of<float>("params.0.weight", {2, 3}, weight));
  c.put(Tensor::of<double>("params.0.bias", {3}, bias));
  c.put(Tensor::of<std::int64_t>("counts", {2, 2}, counts));
  c.put(Tensor::of<std::uint8_t>("mask", {4}, mask));
  c.put(Tensor::of<double>("scalar", {}, scalar));
  put_iteration(c, 17);
  c.metadata[kConfigKey] = R"({"lr":0.001})";
  c.metadata[kOptimizerKey] = "adam";
  const fs::path file = dir / "interop.safetensors";
  write_checkpoint(file, c);

  const fs::path from_python = dir / "from_python.safetensors";
  const std::string cmd = "'" + python + "' '" + script.string() + "' '" + file.string() + "' '" +
                          from_python.string() + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr) << "cannot run " << cmd;
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = ::pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ASSERT_EQ(code, 0) << "safetensors_interop.py failed (exit " << code << "):\n" << output;
  EXPECT_TRUE(contains(output, "safetensors.numpy: ok")) << output;
  EXPECT_TRUE(contains(output, "plain numpy: ok")) << output;

  // The other direction: what Python's safetensors wrote (its own tensor order and padding).
  const Checkpoint back = read_checkpoint(from_python);
  EXPECT_EQ(back.tensors.size(), c.tensors.size());
  for (const auto& t : c.tensors) {
    const Tensor* u = back.find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(u->dtype, t.dtype) << t.name;
    EXPECT_EQ(u->shape, t.shape) << t.name;
    EXPECT_EQ(u->data, t.data) << t.name;
  }
  EXPECT_EQ(back.metadata, c.metadata);
}

}  // namespace
}  // namespace neuralode::train
