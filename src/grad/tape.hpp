// Tape: an append-only store of fixed-size records (one per solver step), in blocks of about
// 1 MiB so that memory grows with what is stored (no doubling copies, untouched pages unused).
#pragma once

#include <cassert>
#include <cstddef>
#include <memory>
#include <vector>

#include "neuralode/types.hpp"

namespace neuralode::grad::detail {

template <class Scalar>
class Tape {
 public:
  // Forgets every record. Blocks are kept for the next solve when the record size is unchanged
  // (a training loop solves the same shapes again and again; giving 1 MiB blocks back to the
  // allocator each time would cost an mmap, a munmap and page faults per iteration).
  void reset(Index record_size) {
    if (record_size != record_size_) {
      blocks_.clear();
      record_size_ = record_size;
      constexpr std::size_t kBlockBytes = std::size_t(1) << 20;
      per_block_ =
          std::max<Index>(1, static_cast<Index>(kBlockBytes / (sizeof(Scalar) * record_size)));
    }
    size_ = 0;
  }
  // Space for one more record.
  Scalar* append() {
    Scalar* r = next();
    ++size_;
    return r;
  }
  // The record append() will return next, to fill before it is committed (by append()).
  Scalar* next() {
    if (size_ == static_cast<Index>(blocks_.size()) * per_block_)
      blocks_.emplace_back(
          new Scalar[static_cast<std::size_t>(per_block_ * record_size_)]);  // not zeroed
    return blocks_[static_cast<std::size_t>(size_ / per_block_)].get() +
           (size_ % per_block_) * record_size_;
  }
  Scalar* at(Index i) {
    assert(i < size_);
    return blocks_[static_cast<std::size_t>(i / per_block_)].get() +
           (i % per_block_) * record_size_;
  }
  Index size() const { return size_; }
  Index record_size() const { return record_size_; }
  // Bytes of the records stored (the blocks' unused tail is never touched, so not resident).
  std::size_t bytes() const {
    return static_cast<std::size_t>(size_ * record_size_) * sizeof(Scalar);
  }

 private:
  std::vector<std::unique_ptr<Scalar[]>> blocks_;
  Index record_size_ = 0, per_block_ = 1, size_ = 0;
};

}  // namespace neuralode::grad::detail
