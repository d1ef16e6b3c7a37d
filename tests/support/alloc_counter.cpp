// The allocation counter of alloc_counter.hpp: malloc and friends, forwarded to glibc's __libc_*
// entry points and counting while a flag is set. Weak, so a program that brings its own
// allocator still links; not compiled under AddressSanitizer, which replaces malloc itself.
#include "support/alloc_counter.hpp"

#include <atomic>
#include <cstdlib>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_count{0};
inline void bump() {
  if (g_counting.load(std::memory_order_relaxed)) g_count.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if !defined(__SANITIZE_ADDRESS__)
extern "C" {
__attribute__((weak)) void* malloc(std::size_t n) noexcept {
  bump();
  return __libc_malloc(n);
}
__attribute__((weak)) void* calloc(std::size_t n, std::size_t size) noexcept {
  bump();
  return __libc_calloc(n, size);
}
__attribute__((weak)) void* realloc(void* p, std::size_t n) noexcept {
  bump();
  return __libc_realloc(p, n);
}
__attribute__((weak)) int posix_memalign(void** p, std::size_t align, std::size_t n) noexcept {
  bump();
  *p = __libc_memalign(align, n);
  return *p ? 0 : 12;  // ENOMEM
}
__attribute__((weak)) void* aligned_alloc(std::size_t align, std::size_t n) noexcept {
  bump();
  return __libc_memalign(align, n);
}
__attribute__((weak)) void* memalign(std::size_t align, std::size_t n) noexcept {
  bump();
  return __libc_memalign(align, n);
}
}
#endif

namespace neuralode::testing::alloc_count {

long count(const std::function<void()>& f) {
  g_count.store(0);
  g_counting.store(true);
  f();
  g_counting.store(false);
  return g_count.load();
}

bool is_live() {
  return count([] {
           void* volatile p = std::malloc(64);
           std::free(p);
         }) > 0;
}

}  // namespace neuralode::testing::alloc_count
