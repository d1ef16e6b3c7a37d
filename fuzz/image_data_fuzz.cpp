// Fuzzes read_idx (train/image_data.hpp), the IDX image and label reader, plain or gzip.
// Input: byte 0 sets num_classes (byte + 1, so 1..256); bytes 1-2 are the image file's length L
// (little-endian, cut to what is there); then L bytes of the image file; the rest is the label
// file. A set read without an exception must satisfy ImageSet::validate() and serve batches.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "neuralode/train/image_data.hpp"
#include "neuralode/types.hpp"

namespace fz = neuralode::fuzz;
namespace tr = neuralode::train;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const int num_classes = int{data[0]} + 1;
  const std::size_t image_bytes =
      std::min<std::size_t>(data[1] | (std::size_t{data[2]} << 8), size - 3);
  const auto images = fz::scratch_dir() / "images-idx3-ubyte";
  const auto labels = fz::scratch_dir() / "labels-idx1-ubyte";
  fz::write_file(images, fz::as_text(data + 3, image_bytes));
  fz::write_file(labels, fz::as_text(data + 3 + image_bytes, size - 3 - image_bytes));

  tr::ImageSet set;
  if (!fz::expect_clean("read_idx", [&] { set = tr::read_idx(images, labels, num_classes); }))
    return 0;

  // What read_idx promises about a set it returns.
  if (set.num_classes != num_classes)
    fz::finding("read_idx returned num_classes " + std::to_string(set.num_classes) + ", asked " +
                std::to_string(num_classes));
  fz::must_succeed("ImageSet::validate", [&] { set.validate(); });
  for (float p : set.pixels)
    if (!(p >= 0.0f && p <= 1.0f)) fz::finding("read_idx returned a pixel outside [0, 1]");

  // The set feeds the batcher and head() as a training run would use them.
  fz::must_succeed("head", [&] {
    const tr::ImageSet first = tr::head(set, 2);
    first.validate();
  });
  if (set.count == 0) return 0;
  fz::must_succeed("ImageBatcher", [&] {
    tr::ImageBatcher batcher(set, {.batch_size = 3, .shuffle = true, .augment = true, .pad = 2});
    neuralode::Matrix<float> x;
    std::vector<int> y;
    for (int b = 0; b < 2 && batcher.next(x, y); ++b)
      for (int label : y)
        if (label < 0 || label >= num_classes) fz::finding("ImageBatcher served a bad label");
  });
  return 0;
}
