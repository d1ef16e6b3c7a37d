// What every fuzz harness shares: a private scratch directory for the files a reader takes by path,
// and the rule that a reader answers bad bytes with neuralode::Error (IoError, InvalidArgument)
// while any other exception is a finding (see docs/fuzzing.md).
#pragma once

#include <cxxabi.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <typeinfo>

#include "neuralode/error.hpp"

namespace neuralode::fuzz {

// A directory of its own per process (mkdtemp under $TMPDIR, else /tmp), so parallel jobs or
// several harnesses never share files. It is removed at exit() only: libFuzzer ends its runs with
// _Exit and crashes, which skip that, so scripts/fuzz-smoke points TMPDIR into a directory it
// deletes itself; by hand, give TMPDIR a directory of your own (docs/fuzzing.md).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/neuralode-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("neuralode fuzz: mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

// Replaces the file at path with bytes; aborts when the harness itself cannot write (not a finding
// in the reader, but nothing tested would be worth reporting either).
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "neuralode fuzz: cannot write the scratch file %s\n", path.c_str());
    std::abort();
  }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A broken promise of the reader: prints what and aborts, so libFuzzer saves the input.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==neuralode fuzz finding== %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string demangled(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

// With NEURALODE_FUZZ_VERBOSE set, each call says whether the reader accepted or refused the input
// and why: for replaying one input by hand, never while fuzzing.
inline bool verbose() {
  static const bool on = std::getenv("NEURALODE_FUZZ_VERBOSE") != nullptr;
  return on;
}

// Runs call(). Returns true when it returned, false when it threw neuralode::Error (the expected
// answer to bad bytes); any other exception is a finding that names the exception's type, its
// message and `what` (the call being made).
template <class Call>
bool expect_clean(const char* what, Call&& call) {
  try {
    call();
    if (verbose()) std::fprintf(stderr, "%s: accepted\n", what);
    return true;
  } catch (const neuralode::Error& e) {
    if (verbose()) std::fprintf(stderr, "%s: refused: %s\n", what, e.what());
    return false;
  } catch (const std::exception& e) {
    finding(std::string(what) + " threw " + demangled(typeid(e).name()) +
            " instead of neuralode::Error: " + e.what());
  } catch (...) {
    finding(std::string(what) + " threw a non-std exception");
  }
}

// Runs call(), which must not throw at all: a call on data the reader accepted. Any exception,
// neuralode::Error included, is a finding.
template <class Call>
void must_succeed(const char* what, Call&& call) {
  try {
    call();
  } catch (const std::exception& e) {
    finding(std::string(what) + " failed on data the reader accepted: " +
            demangled(typeid(e).name()) + ": " + e.what());
  }
}

}  // namespace neuralode::fuzz
