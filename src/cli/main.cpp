// The `neuralode` program: parses the command line and runs one subcommand (src/cli/*_command.cpp).
// Library errors become "neuralode: <message>" on stderr and exit code 2, as do bad flags (with
// CLI11's message).
#include <exception>
#include <iostream>

#include "cli/commands.hpp"
#include "neuralode/error.hpp"
#include "neuralode/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"neuralode: neural ordinary differential equations in C++20", "neuralode"};
  app.set_version_flag("--version", "neuralode " NEURALODE_VERSION_STRING);
  app.require_subcommand(1);
  app.footer("Run `neuralode <command> --help` for a command's options and their defaults.");
  neuralode::cli::add_commands(app);
  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here with exit code 0; everything else is a bad command line.
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const neuralode::Error& e) {
    std::cerr << "neuralode: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "neuralode: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
