// The subcommands of the `neuralode` program. Each lives in its own file,
// src/cli/<name>_command.cpp, defining `void add_<name>_command(CLI::App& root)`: it adds the
// subcommand, binds its flags to the library's own options structs and sets the callback that
// runs it. Adding a subcommand is a new file plus one line in NEURALODE_CLI_COMMANDS.
#pragma once

#include <CLI/CLI.hpp>

// One X(name) per subcommand, in the order `neuralode --help` lists them.
#define NEURALODE_CLI_COMMANDS(X) \
  X(demo)                         \
  X(solve)                        \
  X(methods)                      \
  X(train_spiral)                 \
  X(train_odenet)                 \
  X(bench_solvers)                \
  X(bench_memory)                 \
  X(bench_spiral)                 \
  X(bench_odenet)                 \
  X(table_odenet)

namespace neuralode::cli {

#define NEURALODE_CLI_DECLARE(name) void add_##name##_command(CLI::App& root);
NEURALODE_CLI_COMMANDS(NEURALODE_CLI_DECLARE)
#undef NEURALODE_CLI_DECLARE

// Adds every subcommand in NEURALODE_CLI_COMMANDS to root.
inline void add_commands(CLI::App& root) {
#define NEURALODE_CLI_ADD(name) add_##name##_command(root);
  NEURALODE_CLI_COMMANDS(NEURALODE_CLI_ADD)
#undef NEURALODE_CLI_ADD
}

// Groups of subcommands: `neuralode bench solvers`, `neuralode train spiral`, ... Each group is
// created by its first caller and requires one of its subcommands.
CLI::App& bench_group(CLI::App& root);  // neuralode bench <benchmark>
CLI::App& train_group(CLI::App& root);  // neuralode train <model>
CLI::App& table_group(CLI::App& root);  // neuralode table <model>

}  // namespace neuralode::cli
