// The `neuralode` program: parses the command line and runs one subcommand (src/cli/*_command.cpp).
// Library errors become "neuralode: <message>" on stderr and exit code 2, as do bad flags (with
// CLI11's message). A run stopped by SIGINT/SIGTERM (after writing its checkpoint) exits with
// 128 + signal; running out of memory is named as such, with what the machine has.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
#include <string>

#include "cli/commands.hpp"
#include "neuralode/error.hpp"
#include "neuralode/train/process_memory.hpp"
#include "neuralode/version.hpp"

namespace {

// "12.3 GiB available of 23.4 GiB" (from /proc/meminfo).
std::string available_memory_text() {
  const double gib = 1024.0 * 1024.0 * 1024.0;
  const std::size_t total = neuralode::train::total_memory_bytes();
  if (total == 0) return "the machine's memory could not be read";
  char text[96];
  std::snprintf(text, sizeof text, "%.1f GiB available of %.1f GiB",
                neuralode::train::available_memory_bytes() / gib, total / gib);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"neuralode: neural ordinary differential equations in C++20", "neuralode"};
  app.set_version_flag("--version", "neuralode " NEURALODE_VERSION_STRING);
  app.require_subcommand(1);
  app.footer("Run `neuralode <command> --help` for a command's options and their defaults.");
  neuralode::cli::add_commands(app);
  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here with exit code 0; everything else is a bad command line,
    // said with the same "neuralode: " in front as the library's errors (a flag refused by its
    // validator and the same value refused by the library read alike).
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "neuralode: ";
    app.exit(e);
    return 2;
  } catch (const neuralode::Interrupted& e) {
    std::cerr << "neuralode: " << e.what() << "\n";
    return 128 + e.signal_number();
  } catch (const neuralode::Error& e) {
    std::cerr << "neuralode: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    // Commands predict their large buffers and refuse up front where that is cheap; this is the
    // net under everything else.
    std::cerr
        << "neuralode: out of memory: an allocation failed (" << available_memory_text()
        << "); use smaller sizes (batch, state dimension, steps) or a machine with more memory\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "neuralode: file system error: " << e.code().message() << ": '"
              << e.path1().string() << "'" << (e.path2().empty() ? "" : " -> '")
              << e.path2().string() << (e.path2().empty() ? "" : "'") << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "neuralode: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
