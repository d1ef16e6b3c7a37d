// `neuralode bench spiral`: the spiral demo's training loop, timed after a warm-up.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "neuralode/train/spiral.hpp"

namespace neuralode::cli {

void add_spiral_flags(CLI::App& cmd, train::SpiralOptions& o);  // train_spiral_command.cpp

void add_bench_spiral_command(CLI::App& root) {
  auto o = std::make_shared<train::SpiralOptions>();
  auto json = std::make_shared<bool>(false);
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
  cmd->callback([o, json] {
    o->test_freq = o->iters;  // one whole-trajectory test, at the end (not timed)
    const train::SpiralResult r = train::train_spiral(*o, std::cout);
    nlohmann::json j = {{"grad", o->grad},
                        {"method", o->method},
                        {"dtype", o->dtype},
                        {"iters", o->iters},
                        {"warmup", o->warmup},
                        {"ms_per_iter", r.ms_per_iter},
                        {"nfe_forward", r.mean_nfe_forward},
                        {"nfe_backward", r.mean_nfe_backward},
                        {"final_loss", r.final_loss}};
    if (*json) {
      std::cout << j.dump() << "\n";
    } else {
      std::printf(
          "spiral %s/%s %s: %.4f ms per step over %d steps (after %d warm-up), NFE %.1f forward / "
          "%.1f "
          "backward, final loss %.4g\n",
          o->grad.c_str(), o->method.c_str(), o->dtype.c_str(), r.ms_per_iter, o->iters - o->warmup,
          o->warmup, r.mean_nfe_forward, r.mean_nfe_backward, r.final_loss);
    }
  });
}

}  // namespace neuralode::cli
