// A heap-allocation counter for the tests that promise "no allocation after the first call".
// It counts malloc-family calls (operator new goes through malloc in libstdc++, and Eigen and
// oneDNN call malloc/posix_memalign directly, which a counting operator new alone would miss).
// Linked into every test program from tests/support/alloc_counter.cpp.
#pragma once

#include <functional>

namespace neuralode::testing::alloc_count {

// Allocations made while f() runs.
long count(const std::function<void()>& f);

// Whether the counter sees allocations: false under AddressSanitizer, which owns malloc.
bool is_live();

}  // namespace neuralode::testing::alloc_count
