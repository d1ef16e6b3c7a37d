// `neuralode bench spiral`: the spiral demo's training loop, timed after a warm-up.
#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/repeats.hpp"
#include "common/text.hpp"
#include "neuralode/apps/spiral.hpp"
#include "neuralode/error.hpp"

namespace neuralode::cli {

void add_spiral_flags(CLI::App& cmd, apps::SpiralOptions& o);  // train_spiral_command.cpp

namespace {

// A directory of this process's own (mkdtemp: a new name, mode 0700) under the system's temporary
// directory, removed with everything in it when the benchmark ends, however it ends. A fixed
// shared path would let two benchmarks running at once (or another user) read, overwrite or
// refuse each other's checkpoints.
class PrivateTempDir {
 public:
  PrivateTempDir() {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string name = (base / "neuralode-bench-spiral-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr) {
      const int err = errno;
      throw IoError(detail::cat("bench spiral: cannot create a temporary directory in '",
                                base.string(), "': ", detail::errno_text(err),
                                "; set TMPDIR to a writable directory"));
    }
    path_ = name;
  }
  ~PrivateTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

void add_bench_spiral_command(CLI::App& root) {
  auto o = std::make_shared<apps::SpiralOptions>();
  auto json = std::make_shared<bool>(false);
  auto repeats = std::make_shared<int>(1);
  o->iters = 200;
  o->warmup = 20;
  o->figures = false;
  o->quiet = true;
  CLI::App* cmd = bench_group(root).add_subcommand(
      "spiral", "ms per training step of the spiral demo (after --warmup steps), NFE, final loss");
  add_spiral_flags(*cmd, *o);
  cmd->add_option("--warmup", o->warmup, "Steps before timing starts (fewer than --iters)")
      ->check(integer_at_least(0, std::numeric_limits<int>::max()))
      ->capture_default_str();
  cmd->add_flag("--json", *json, "One JSON object");
  add_repeats_flag(*cmd, *repeats);
  cmd->callback([o, json, repeats] {
    o->test_freq = o->iters;  // one whole-trajectory test, at the end (not timed)
    o->validate();            // --warmup >= --iters and the like, before the directory is made
    // Every repeat trains from the same seed, so the work (NFE, final loss) is the same; each
    // writes into a fresh directory of its own (a new run never reuses an old run's directory).
    const PrivateTempDir dir;
    std::vector<double> ms;
    apps::SpiralResult r;
    for (int k = 0; k < *repeats; ++k) {
      o->out = dir.path() / ("run" + std::to_string(k));
      try {
        r = apps::train_spiral(*o, std::cout);
      } catch (const Interrupted& e) {
        // train_spiral's message points at a checkpoint to --resume; here it is discarded.
        throw Interrupted(detail::cat("bench spiral: stopped by a signal during repeat ", k + 1,
                                      " of ", *repeats, "; nothing was measured"),
                          e.signal_number());
      }
      ms.push_back(r.ms_per_iter);
    }
    nlohmann::json j = {{"grad", o->grad.method},
                        {"method", o->solve.method},
                        {"dtype", o->dtype},
                        {"iters", o->iters},
                        {"warmup", o->warmup},
                        {"nfe_forward", r.mean_nfe_forward},
                        {"nfe_backward", r.mean_nfe_backward},
                        {"final_loss", r.final_loss}};
    put_repeated(j, "ms_per_iter", ms);
    if (*json) {
      std::cout << j.dump() << "\n";
    } else {
      std::printf(
          "spiral %s/%s %s: %.4f ms per step (median of %d runs, %.4f to %.4f) over %d steps "
          "(after %d warm-up), NFE %.1f forward / %.1f backward, final loss %.4g\n",
          o->grad.method.c_str(), o->solve.method.c_str(), o->dtype.c_str(),
          j["ms_per_iter"].get<double>(), *repeats, j["ms_per_iter_min"].get<double>(),
          j["ms_per_iter_max"].get<double>(), o->iters - o->warmup, o->warmup, r.mean_nfe_forward,
          r.mean_nfe_backward, r.final_loss);
    }
  });
}

}  // namespace neuralode::cli
