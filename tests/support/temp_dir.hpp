// Test helpers for files: a fresh directory per test, and reading a whole file back.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace neuralode::test_support {

// A fresh directory named after the running test (and the process, since ctest runs tests of one
// file in parallel processes), removed afterwards. If the environment variable `keep_env` is set,
// the directory is kept and its path printed, so that a developer can look at what was written.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix, const char* keep_env = nullptr)
      : keep_env_(keep_env) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("neuralode_" + prefix + "_" + info->test_suite_name() + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    if (keep_env_ != nullptr && std::getenv(keep_env_) != nullptr) {
      std::printf("kept %s\n", path_.c_str());
      return;
    }
    // Owner permissions first: a test may have removed them to make a write fail.
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
  const char* keep_env_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace neuralode::test_support
