// Labelled image data for the ODE-Net classifier: IDX files (MNIST, Fashion-MNIST) read into
// [0, 1] floats, and a seeded batcher that shuffles and augments them reproducibly, so a run
// resumed at epoch e sees exactly the batches the uninterrupted run saw.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "neuralode/types.hpp"

namespace neuralode::train {

// One set of labelled single-channel images. Pixels are uint8 / 255 (as torchvision's ToTensor),
// row-major count x (height * width): row i is image i, scanned row by row.
struct ImageSet {
  Index count = 0, height = 0, width = 0;
  std::vector<float> pixels;         // count * height * width, each in [0, 1]
  std::vector<std::uint8_t> labels;  // count, each < num_classes
  int num_classes = 10;

  Index pixels_per_image() const { return height * width; }
  // Throws InvalidArgument unless height, width >= 1, count >= 0, 1 <= num_classes <= 256, the
  // two vectors have the sizes above and every label is < num_classes.
  void validate() const;
};

// Reads an IDX image file (magic 0x00000803: uint8, 3 dimensions count x rows x cols) and an IDX
// label file (magic 0x00000801: uint8, 1 dimension), each gzip-compressed or plain; which one is
// told by the gzip magic bytes 1f 8b, not by the name. Each file must hold exactly the bytes its
// header declares, the two counts must agree and every label must be < num_classes (1..256).
// Throws InvalidArgument naming the file, what was wrong (with the image or label index and its
// byte offset where one is at fault) and what is accepted.
//
// max_count >= 0 reads only the first min(max_count, count) images and labels (-1: all), and
// decompresses nothing past them: a gzip file is then not checked beyond what was read (its
// trailing bytes and CRC are not reached). Before any data is read, the header is checked against
// the file: a plain file's size must be exactly what the header declares, and a gzip file must be
// large enough to expand to it (deflate expands at most 1032:1), so a corrupt header or a small
// "gzip bomb" is refused at once; and the floats to be kept (4 bytes a pixel) must fit in the
// memory the machine has available (available_memory_bytes()).
inline constexpr Index kAllRecords = -1;
ImageSet read_idx(const std::filesystem::path& images, const std::filesystem::path& labels,
                  int num_classes = 10, Index max_count = kAllRecords);

struct ImageData {
  ImageSet train, test;
};

// Reads the four MNIST-style files of `dir`: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each plain or with ".gz" appended (the plain
// one is taken when both exist: it reads faster), the first max_train training and max_test test
// images of them (kAllRecords: all; see read_idx). Throws InvalidArgument listing the names looked
// for when one is missing, and when the two sets' images differ in size.
ImageData load_mnist_style(const std::filesystem::path& dir, Index max_train = kAllRecords,
                           Index max_test = kAllRecords);

// Where Debian's dataset-fashion-mnist package puts Fashion-MNIST (the four files, gzipped).
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The first min(n, set.count) images of `set` (n >= 0), for quick tests and benchmarks.
ImageSet head(const ImageSet& set, Index n);

struct BatcherOptions {
  // Images per batch. The ODE-Net recipe (torchdiffeq's odenet_mnist) uses 128.
  Index batch_size = 128;
  // A fresh permutation every epoch; false walks the set in file order (evaluation).
  bool shuffle = true;
  // odenet_mnist's training transform RandomCrop(28, padding=4): pad `pad` zeros on every side and
  // take a height x width window at offsets drawn uniformly in 0..2*pad on each axis, i.e. shift
  // the image by up to `pad` pixels and fill the uncovered border with zeros. Training data only.
  bool augment = false;
  int pad = 4;  // >= 0; pixels of zero padding on each side when augmenting
  // Leave out the last batch of an epoch when it has fewer than batch_size images.
  bool drop_last = false;
  // With the epoch number, fixes the order and the crops (see ImageBatcher).
  std::uint64_t seed = 0;

  // Throws InvalidArgument naming the field and the accepted values.
  void validate() const;
};

// Serves an ImageSet in batches. The order and the crops of epoch e are functions of (seed, e)
// only, computed with a self-contained generator (splitmix64) rather than std:: distributions,
// whose output differs between standard libraries; so results are the same everywhere and a run
// resumed at epoch e (start_epoch(e)) sees exactly what the uninterrupted run saw.
// The batcher keeps a pointer to `set`: the set must outlive it and stay in place.
class ImageBatcher {
 public:
  // Validates the options and the set; starts epoch 0.
  ImageBatcher(const ImageSet& set, BatcherOptions options);

  // Rewinds to the first batch of `epoch` (any epoch, in any order).
  void start_epoch(std::uint64_t epoch);
  Index batches_per_epoch() const;
  const BatcherOptions& options() const { return options_; }

  // Fills x (resized to rows x pixels_per_image, rows = batch_size except perhaps the last batch)
  // and labels with the next batch; returns false, leaving both untouched, at the end of the epoch.
  // Allocates nothing once x and labels have held a full batch, except when a last partial batch
  // changes x's size (Eigen reallocates on every size change); next_into never allocates.
  bool next(Matrix<float>& x, std::vector<int>& labels);
  // The same batch into caller-owned buffers of at least batch_size rows (x with
  // pixels_per_image columns); returns the rows written, 0 at the end of the epoch.
  Index next_into(MatrixView<float> x, std::span<int> labels);
  // Passes over the next `batches` batches (>= 0) of this epoch without serving them, as if next()
  // had been called that many times (the crops are keyed by the sample's place in the epoch, so
  // what follows is the same): a run resumed inside an epoch continues with its next batch.
  // InvalidArgument when fewer batches are left.
  void skip(Index batches);

 private:
  Index rows_of_next() const;

  const ImageSet* set_;
  BatcherOptions options_;
  std::vector<Index> order_;    // sample indices of this epoch, in serving order
  Index position_ = 0;          // how many of order_ were served
  std::uint64_t crop_key_ = 0;  // keys the crop offsets of this epoch
};

}  // namespace neuralode::train
