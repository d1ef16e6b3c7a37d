// Threads used by nn's matrix products. Default 1: a field is usually evaluated inside a solver
// loop where one thread per independent solve scales better than threads inside small products.
#pragma once

namespace neuralode::nn {

// Sets the threads oneDNN's products may use (n >= 1; InvalidArgument otherwise). oneDNN as built
// by Debian runs on OpenMP, so this sets OpenMP's thread count for the process
// (omp_set_num_threads), found at run time in the OpenMP runtime oneDNN loaded; if none is
// loaded it is a no-op. Eigen's products stay single-threaded: Eigen threads only when compiled
// with -fopenmp, which this library is not. Only large products (oneDNN's) gain from n > 1.
void set_num_threads(int n);
// The last value set (1 until set_num_threads is called).
int num_threads();

}  // namespace neuralode::nn
