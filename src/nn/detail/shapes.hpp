// Small internal helpers shared by the layers: argument checks that throw at construction, and
// assertions of the shapes a caller passes (contract violations inside the library).
#pragma once

#include <cassert>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/types.hpp"
#include "nn/backend/matmul_thin.hpp"

namespace neuralode::nn::detail {

inline void require_positive(const char* where, const char* what, Index value) {
  if (value < 1) {
    throw InvalidArgument(std::string(where) + ": " + what + " = " + std::to_string(value) +
                          " must be >= 1");
  }
}

inline std::string shape_string(Index rows, Index cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

// A rows x cols view of buf, growing it when too small and never shrinking it: buffers that serve
// several batch sizes (or layers of several widths) in turn allocate only while they grow, so
// there is no allocation after the first call at a given batch size.
template <class Scalar>
MatrixView<Scalar> grow_view(std::vector<Scalar>& buf, Index rows, Index cols) {
  const auto n = static_cast<std::size_t>(rows * cols);
  if (buf.size() < n) buf.resize(n);
  return MatrixView<Scalar>(buf.data(), rows, cols);
}

// out += colsum(m) for a row-major m: a rank update with unit coefficients (coefficient stride 0),
// whole rows streaming through accumulators held in registers.
template <class Scalar, class M>
inline void add_colsum(const M& m, Scalar* out) {
  const Scalar one(1);
  thin_rank_update<1>(m.rows(), m.cols(), &one, 0, m.data(), m.cols(), out, m.cols());
}

}  // namespace neuralode::nn::detail
