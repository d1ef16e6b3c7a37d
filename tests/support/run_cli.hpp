// Test helpers that run the `neuralode` program as users do: the built binary (NEURALODE_CLI_PATH,
// defined for every test program by tests/CMakeLists.txt) started through the shell with its
// stdout and stderr captured, so a test checks the exit code and what was printed.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "support/expect_error.hpp"  // contains()
#include "support/temp_dir.hpp"

namespace neuralode::test_support {

struct CliRun {
  int exit_code = -1;  // -1: killed by a signal (or the shell could not run it)
  std::string out;
  std::string err;
};

// Runs `neuralode <args>` (args are passed to the shell as written, so quote paths with spaces).
inline CliRun run_cli(const std::string& args) {
  static std::atomic<int> counter{0};
  const std::string stem = ::testing::TempDir() + "neuralode_cli_test_" +
                           std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string out_path = stem + ".out", err_path = stem + ".err";
  const std::string command = std::string("'") + NEURALODE_CLI_PATH + "' " + args + " >'" +
                              out_path + "' 2>'" + err_path + "'";
  const int status = std::system(command.c_str());
  CliRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(out_path);
  run.err = read_file(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return run;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace neuralode::test_support
