// Thread count for nn's products; see threads.hpp. The OpenMP runtime is looked up with dlsym so
// that the library neither compiles with -fopenmp nor links libgomp itself: it is present exactly
// when oneDNN (which links it) is loaded, which is the only code that would use it.
#include "neuralode/nn/threads.hpp"

#include <dlfcn.h>

#include <atomic>
#include <string>

#include "neuralode/error.hpp"
#include "nn/detail/omp_threads.hpp"

namespace neuralode::nn {
namespace {

std::atomic<int> g_num_threads{1};

struct OmpRuntime {
  using Set = void (*)(int);
  using Get = int (*)();
  Set set = nullptr;
  Get get = nullptr;
  OmpRuntime() {
    set = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  }
};

const OmpRuntime& omp() {
  static const OmpRuntime runtime;
  return runtime;
}

}  // namespace

void set_num_threads(int n) {
  if (n < 1) {
    throw InvalidArgument("nn::set_num_threads: n = " + std::to_string(n) + " must be >= 1");
  }
  g_num_threads.store(n);
  detail::sync_omp_threads();
}

int num_threads() {
  return g_num_threads.load();
}

namespace detail {

void sync_omp_threads() {
  const auto& rt = omp();
  if (!rt.set || !rt.get) return;
  const int n = g_num_threads.load();
  if (rt.get() != n) rt.set(n);
}

}  // namespace detail
}  // namespace neuralode::nn
