// `neuralode table odenet RUN_DIR...`: the paper-style comparison of finished image-model runs.
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "cli/commands.hpp"
#include "neuralode/apps/odenet.hpp"

namespace neuralode::cli {

void add_table_odenet_command(CLI::App& root) {
  auto dirs = std::make_shared<std::vector<std::filesystem::path>>();
  CLI::App* cmd = table_group(root).add_subcommand(
      "odenet",
      "Markdown table of `train odenet` runs: test error, parameters, peak memory, time, NFE");
  cmd->add_option("runs", *dirs, "Run directories (each with config.json and metrics.jsonl)")
      ->required();
  cmd->callback([dirs] { std::cout << apps::odenet_table(*dirs); });
}

}  // namespace neuralode::cli
