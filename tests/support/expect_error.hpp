// Test helpers for the bad-input tests (docs/errors.md): the message of the exception a call
// throws, checks on its words, and writing raw bytes to a file (a damaged checkpoint, a torn log).
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

namespace neuralode::test_support {

// The what() of the E that f() throws. Another exception type, or none, is a test failure (and
// returns ""), so a check that stopped throwing cannot pass by accident.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "threw nothing";
  return "";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Asserts that f() throws E and that its message contains every fragment.
template <class E, class F>
void expect_error(F&& f, std::initializer_list<const char*> fragments) {
  const std::string m = message_of<E>(f);
  for (const char* frag : fragments)
    EXPECT_TRUE(contains(m, frag)) << "message '" << m << "' lacks '" << frag << "'";
}

// Replaces the file at p with exactly `bytes`.
inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace neuralode::test_support
