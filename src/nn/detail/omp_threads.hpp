// Keeps the OpenMP runtime that oneDNN runs on at nn::num_threads() threads for this thread.
#pragma once

namespace neuralode::nn::detail {

// Calls omp_set_num_threads(nn::num_threads()) if the OpenMP runtime is loaded and its current
// value differs. Cheap (two function-pointer calls) when nothing changes.
void sync_omp_threads();

}  // namespace neuralode::nn::detail
