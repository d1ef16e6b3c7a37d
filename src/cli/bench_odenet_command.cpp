// `neuralode bench odenet`: seconds per training iteration of ODE-Net / RK-Net / ResNet.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/repeats.hpp"
#include "neuralode/apps/odenet.hpp"

namespace neuralode::cli {

// train_odenet_command.cpp
void add_odenet_flags(CLI::App& cmd, apps::OdeNetOptions& o, const std::string& data_help);

void add_bench_odenet_command(CLI::App& root) {
  auto b = std::make_shared<apps::OdeNetBenchOptions>();
  auto json = std::make_shared<bool>(false);
  auto repeats = std::make_shared<int>(1);
  CLI::App* cmd = bench_group(root).add_subcommand(
      "odenet", "Seconds per training iteration (batch 128), NFE and peak RSS of the image models");
  add_odenet_flags(
      *cmd, b->run,
      "fashion-mnist (Debian's dataset-fashion-mnist), a directory with the four MNIST-style IDX "
      "files, or random (uniform random 28x28 pixels). Without --data: fashion-mnist, or random "
      "pixels when it is not installed (the output says which); a --data that is given must be "
      "readable");
  cmd->add_option("--iters", b->iters, "Timed iterations")
      ->capture_default_str()
      ->check(integer_at_least(1, 1000000));
  cmd->add_option("--warmup", b->warmup, "Iterations before timing starts")
      ->capture_default_str()
      ->check(integer_at_least(0, 1000000));
  cmd->add_flag("--json", *json, "One JSON object");
  add_repeats_flag(*cmd, *repeats);
  cmd->callback([b, json, repeats, cmd] {
    // Random pixels stand in for the default data set only: a --data the user typed must be read.
    b->allow_random_data = cmd->count("--data") == 0;
    // Every repeat starts from the same seed and batches: the same work each time.
    std::vector<double> seconds;
    apps::OdeNetBenchResult r;
    for (int k = 0; k < *repeats; ++k) {
      r = apps::bench_odenet(*b);
      seconds.push_back(r.seconds_per_iter);
    }
    nlohmann::json j = {{"model", r.model},
                        {"grad", r.grad},
                        {"method", b->run.solve.method},
                        {"tol", b->run.solve.rtol},
                        {"batch_size", r.batch_size},
                        {"threads", r.threads},
                        {"iters", r.iters},
                        {"nfe_forward", r.nfe_forward},
                        {"nfe_backward", r.nfe_backward},
                        {"peak_rss_bytes", r.peak_rss_bytes},
                        {"data", r.data}};
    put_repeated(j, "s_per_iter", seconds);
    if (*json) {
      std::cout << j.dump() << "\n";
    } else {
      std::printf(
          "%s (%s): %.3f s per iteration (median of %d runs, %.3f to %.3f) at batch %ld, %d "
          "thread(s); NFE %.1f forward / %.1f backward; peak RSS %.0f MiB; data: %s\n",
          r.model.c_str(), r.grad.c_str(), j["s_per_iter"].get<double>(), *repeats,
          j["s_per_iter_min"].get<double>(), j["s_per_iter_max"].get<double>(),
          static_cast<long>(r.batch_size), r.threads, r.nfe_forward, r.nfe_backward,
          static_cast<double>(r.peak_rss_bytes) / (1 << 20),
          r.data == "random" ? "random pixels" : r.data.c_str());
    }
  });
}

}  // namespace neuralode::cli
