// Shared vocabulary: index type and the row-major batch x dim views every part passes around.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace neuralode {

using Index = Eigen::Index;

// A batch of states or derivatives: one row per sample, row-major (batch x dim), contiguous.
template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Non-owning views of a contiguous row-major batch. Passed by value; writing through a MatrixView
// writes into the caller's buffer.
template <class Scalar>
using MatrixView = Eigen::Map<Matrix<Scalar>>;
template <class Scalar>
using ConstMatrixView = Eigen::Map<const Matrix<Scalar>>;

template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

}  // namespace neuralode
