// Helpers shared by the subcommands' registration.
#include "cli/commands.hpp"

#include <string>

namespace neuralode::cli {

namespace {

CLI::App& group(CLI::App& root, const std::string& name, const std::string& description) {
  for (CLI::App* sub : root.get_subcommands([&](CLI::App* app) { return app->get_name() == name; }))
    return *sub;
  CLI::App* created = root.add_subcommand(name, description);
  created->require_subcommand(1);
  return *created;
}

}  // namespace

CLI::App& bench_group(CLI::App& root) {
  return group(root, "bench", "Benchmarks; each subcommand is one benchmark");
}

CLI::App& train_group(CLI::App& root) {
  return group(root, "train", "Train a model; each subcommand is one model");
}

CLI::App& table_group(CLI::App& root) {
  return group(root, "table", "Summarise finished runs as Markdown tables");
}

}  // namespace neuralode::cli
