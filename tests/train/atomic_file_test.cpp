// write_file_atomically: new and replaced files hold exactly the bytes written, and a failed write
// leaves the old file (or directory) as it was and no temporary file behind.
#include "common/atomic_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "neuralode/error.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using neuralode::IoError;
using neuralode::detail::write_file_atomically;

using neuralode::test_support::read_file;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  return names;
}

// The IoError message of f(), or "" (and a test failure) when it does not throw one.
template <class F>
std::string io_error_of(F f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IoError thrown";
  return "";
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(WriteFileAtomically, CreatesANewFileWithExactlyTheBytes) {
  neuralode::test_support::TempDir dir{"atomic_file"};
  const fs::path path = dir.path() / "new.bin";
  const std::string bytes("a\0b\nc\xff", 6);  // embedded NUL and a high byte, no text mode
  write_file_atomically(path, bytes, "test");
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"new.bin"});
}

TEST(WriteFileAtomically, ConcatenatesThePieces) {
  neuralode::test_support::TempDir dir{"atomic_file"};
  const fs::path path = dir.path() / "pieces.txt";
  const std::vector<std::string_view> pieces = {"one", "", "two", "three"};
  write_file_atomically(path, pieces, "test");
  EXPECT_EQ(read_file(path), "onetwothree");
}

TEST(WriteFileAtomically, ReplacesAnExistingFileAndLeavesNoTemporaryFile) {
  neuralode::test_support::TempDir dir{"atomic_file"};
  const fs::path path = dir.path() / "file.txt";
  write_file_atomically(path, std::string(10000, 'x'), "test");
  write_file_atomically(path, "short", "test");  // shorter: nothing of the old file remains
  EXPECT_EQ(read_file(path), "short");
  write_file_atomically(path, "", "test");
  EXPECT_EQ(read_file(path), "");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"file.txt"});
}

TEST(WriteFileAtomically, MissingDirectoryThrowsNamingThePathAndCreatesNothing) {
  neuralode::test_support::TempDir dir{"atomic_file"};
  const fs::path path = dir.path() / "no" / "such" / "dir" / "file.txt";
  const std::string msg = io_error_of([&] { write_file_atomically(path, "bytes", "my writer"); });
  EXPECT_TRUE(contains(msg, "my writer")) << msg;
  EXPECT_TRUE(contains(msg, path.string())) << msg;
  EXPECT_TRUE(contains(msg, "cannot create the temporary file")) << msg;
  EXPECT_TRUE(contains(msg, std::generic_category().message(ENOENT))) << msg;
  EXPECT_TRUE(names_in(dir.path()).empty());
}

TEST(WriteFileAtomically, ADirectoryInThePlaceOfTheFileIsLeftIntact) {
  neuralode::test_support::TempDir dir{"atomic_file"};
  const fs::path path = dir.path() / "taken";
  fs::create_directory(path);
  std::ofstream(path / "inside.txt") << "kept";
  const std::string msg = io_error_of([&] { write_file_atomically(path, "bytes", "test"); });
  EXPECT_TRUE(contains(msg, path.string())) << msg;
  EXPECT_TRUE(contains(msg, "renaming")) << msg;
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_EQ(read_file(path / "inside.txt"), "kept");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"taken"}) << "a temporary file is left";
}

TEST(WriteFileAtomically, ARelativePathIsWrittenInTheCurrentDirectory) {
  neuralode::test_support::TempDir dir{"atomic_file"};
  const fs::path old_cwd = fs::current_path();
  fs::current_path(dir.path());
  write_file_atomically("here.txt", "here", "test");
  fs::current_path(old_cwd);
  EXPECT_EQ(read_file(dir.path() / "here.txt"), "here");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"here.txt"});
}

}  // namespace
