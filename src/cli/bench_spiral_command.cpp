// `neuralode bench spiral`: the spiral demo's training loop, timed after a warm-up.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/commands.hpp"
#include "cli/repeats.hpp"
#include "neuralode/train/spiral.hpp"

namespace neuralode::cli {

void add_spiral_flags(CLI::App& cmd, train::SpiralOptions& o);  // train_spiral_command.cpp

void add_bench_spiral_command(CLI::App& root) {
  auto o = std::make_shared<train::SpiralOptions>();
  auto json = std::make_shared<bool>(false);
  auto repeats = std::make_shared<int>(1);
  o->iters = 200;
  o->warmup = 20;
  o->figures = false;
  o->quiet = true;
  o->out = std::filesystem::temp_directory_path() / "neuralode-bench-spiral";
  CLI::App* cmd = bench_group(root).add_subcommand(
      "spiral", "ms per training step of the spiral demo (after --warmup steps), NFE, final loss");
  add_spiral_flags(*cmd, *o);
  cmd->add_option("--warmup", o->warmup, "Steps before timing starts")->capture_default_str();
  cmd->add_flag("--json", *json, "One JSON object");
  add_repeats_flag(*cmd, *repeats);
  cmd->callback([o, json, repeats] {
    o->test_freq = o->iters;  // one whole-trajectory test, at the end (not timed)
    // Every repeat trains from the same seed, so the work (NFE, final loss) is the same.
    std::vector<double> ms;
    train::SpiralResult r;
    for (int k = 0; k < *repeats; ++k) {
      r = train::train_spiral(*o, std::cout);
      ms.push_back(r.ms_per_iter);
    }
    nlohmann::json j = {{"grad", o->grad},
                        {"method", o->method},
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
          o->grad.c_str(), o->method.c_str(), o->dtype.c_str(), j["ms_per_iter"].get<double>(),
          *repeats, j["ms_per_iter_min"].get<double>(), j["ms_per_iter_max"].get<double>(),
          o->iters - o->warmup, o->warmup, r.mean_nfe_forward, r.mean_nfe_backward, r.final_loss);
    }
  });
}

}  // namespace neuralode::cli
