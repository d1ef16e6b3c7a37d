// `neuralode methods`: the solver registry as a table (Markdown with --markdown).
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "neuralode/ode.hpp"

namespace neuralode::cli {

void add_methods_command(CLI::App& root) {
  auto markdown = std::make_shared<bool>(false);
  CLI::App* cmd =
      root.add_subcommand("methods", "List the solvers: order, stages, step control, dense output");
  cmd->add_flag("--markdown", *markdown, "Print a Markdown table");
  cmd->callback([markdown] {
    if (*markdown)
      std::printf(
          "| method | order | stages | step control | FSAL | dense output "
          "|\n|---|---|---|---|---|---|\n");
    for (const ode::ButcherTableau* t : ode::all_methods()) {
      const std::string order =
          t->adaptive() ? std::to_string(t->order) + "(" + std::to_string(t->embedded_order) + ")"
                        : std::to_string(t->order);
      const char* control = t->adaptive() ? "adaptive" : "fixed";
      const std::string dense = t->interpolation == ode::ButcherTableau::Interpolation::own
                                    ? "own, order " + std::to_string(t->dense_order)
                                    : "cubic Hermite";
      if (*markdown)
        std::printf("| `%s` | %s | %d | %s | %s | %s |\n", t->name.c_str(), order.c_str(),
                    t->stages, control, t->fsal ? "yes" : "no", dense.c_str());
      else
        std::printf("%-11s %-6s %2d stages  %-8s %-4s %-16s %s\n", t->name.c_str(), order.c_str(),
                    t->stages, control, t->fsal ? "FSAL" : "", dense.c_str(), t->summary.c_str());
    }
  });
}

}  // namespace neuralode::cli
