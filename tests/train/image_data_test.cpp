// Image data: IDX files written here (plain and gzip) read back exactly, every malformed file
// rejected with a message naming the problem, the MNIST-style directory layout, and the batcher
// (permutations, reproducibility per (seed, epoch), random-crop shifts, partial batches, no
// allocation). Reads Debian's Fashion-MNIST when it is installed.
#include "neuralode/train/image_data.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "support/alloc_counter.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace neuralode::train {
namespace {

namespace fs = std::filesystem;
using test_support::Bytes;
using test_support::idx_images;
using test_support::idx_labels;
using test_support::write_gzip;
using test_support::write_plain;

using test_support::TempDir;

Bytes slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Three 2 x 3 images covering 0 and 255, and their labels.
const Bytes kPixels = {0, 1, 2, 3, 254, 255, 10, 20, 30, 40, 50, 60, 128, 127, 0, 255, 7, 9};
const Bytes kLabels = {9, 0, 3};

void expect_matches_small(const ImageSet& s) {
  ASSERT_EQ(s.count, 3);
  ASSERT_EQ(s.height, 2);
  ASSERT_EQ(s.width, 3);
  EXPECT_EQ(s.pixels_per_image(), 6);
  EXPECT_EQ(s.num_classes, 10);
  ASSERT_EQ(s.pixels.size(), kPixels.size());
  for (std::size_t i = 0; i < kPixels.size(); ++i)
    EXPECT_EQ(s.pixels[i], static_cast<float>(kPixels[i]) / 255.0f) << i;
  EXPECT_EQ(s.pixels[5], 1.0f);
  EXPECT_EQ(s.labels, kLabels);
}

// Runs f, expecting InvalidArgument whose message contains every one of `parts`.
template <class F>
void expect_invalid(F f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << *parts.begin();
  } catch (const InvalidArgument& e) {
    const std::string what = e.what();
    for (const auto& part : parts) EXPECT_NE(what.find(part), std::string::npos) << what;
  }
}

TEST(ReadIdx, PlainRoundTrip) {
  TempDir dir{"idx"};
  write_plain(dir / "img", idx_images(3, 2, 3, kPixels));
  write_plain(dir / "lbl", idx_labels(kLabels));
  expect_matches_small(read_idx(dir / "img", dir / "lbl"));
}

TEST(ReadIdx, GzipRoundTripAndMixed) {
  TempDir dir{"idx"};
  write_gzip(dir / "img.gz", idx_images(3, 2, 3, kPixels));
  write_gzip(dir / "lbl.gz", idx_labels(kLabels));
  write_plain(dir / "lbl", idx_labels(kLabels));
  ASSERT_EQ(slurp(dir / "img.gz").at(0), 0x1f);
  expect_matches_small(read_idx(dir / "img.gz", dir / "lbl.gz"));
  expect_matches_small(read_idx(dir / "img.gz", dir / "lbl"));
}

TEST(ReadIdx, DetectsGzipByContentNotName) {
  TempDir dir{"idx"};
  write_gzip(dir / "images-no-suffix", idx_images(3, 2, 3, kPixels));
  write_plain(dir / "labels-plain.gz", idx_labels(kLabels));
  expect_matches_small(read_idx(dir / "images-no-suffix", dir / "labels-plain.gz"));
}

TEST(ReadIdx, LargerThanOneChunk) {
  // More bytes than one internal read chunk, so the growth and chunk loop are exercised.
  TempDir dir{"idx"};
  const std::uint32_t count = 300, rows = 28, cols = 28;
  Bytes pixels(count * rows * cols);
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<std::uint8_t>(i * 7 % 256);
  Bytes labels(count);
  for (std::size_t i = 0; i < count; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  write_gzip(dir / "img", idx_images(count, rows, cols, pixels));
  write_plain(dir / "lbl", idx_labels(labels));
  const ImageSet s = read_idx(dir / "img", dir / "lbl");
  ASSERT_EQ(s.pixels.size(), pixels.size());
  EXPECT_EQ(s.pixels.capacity(), pixels.size());
  for (std::size_t i = 0; i < pixels.size(); i += 997)
    EXPECT_EQ(s.pixels[i], static_cast<float>(pixels[i]) / 255.0f);
  EXPECT_EQ(s.labels, labels);
}

TEST(ReadIdx, RejectsWrongMagic) {
  TempDir dir{"idx"};
  write_plain(dir / "img", idx_images(3, 2, 3, kPixels));
  write_plain(dir / "lbl", idx_labels(kLabels));
  // Swapped arguments: each file has the other kind's magic.
  expect_invalid(
      [&] { read_idx(dir / "lbl", dir / "img"); },
      {"image file", "lbl", "magic number 0x00000801", "accepted: magic number 0x00000803"});
  expect_invalid([&] { read_idx(dir / "img", dir / "img"); },
                 {"label file", "magic number 0x00000803", "accepted: magic number 0x00000801"});
  Bytes floats = idx_images(3, 2, 3, kPixels);
  floats[2] = 0x0D;  // float32 elements: not accepted
  write_plain(dir / "f32", floats);
  expect_invalid([&] { read_idx(dir / "f32", dir / "lbl"); }, {"magic number 0x00000D03"});
}

TEST(ReadIdx, RejectsTruncatedData) {
  TempDir dir{"idx"};
  write_plain(dir / "lbl", idx_labels(kLabels));
  Bytes img = idx_images(3, 2, 3, kPixels);
  img.pop_back();
  write_plain(dir / "img", img);
  write_gzip(dir / "img.gz", img);
  expect_invalid([&] { read_idx(dir / "img", dir / "lbl"); },
                 {"truncated", "declares 18 data bytes but only 17", "(plain)"});
  expect_invalid([&] { read_idx(dir / "img.gz", dir / "lbl"); },
                 {"truncated", "(gzip-compressed)"});
  Bytes lbl = idx_labels(kLabels);
  lbl.pop_back();
  write_plain(dir / "lbl-short", lbl);
  write_plain(dir / "img-ok", idx_images(3, 2, 3, kPixels));
  expect_invalid([&] { read_idx(dir / "img-ok", dir / "lbl-short"); }, {"label file", "truncated"});
  // Cut inside the header.
  write_plain(dir / "stub", Bytes{0, 0, 8, 3, 0, 0});
  expect_invalid([&] { read_idx(dir / "stub", dir / "lbl"); }, {"ends inside the header"});
  write_plain(dir / "empty", Bytes{});
  expect_invalid([&] { read_idx(dir / "empty", dir / "lbl"); }, {"ends inside the header"});
}

TEST(ReadIdx, RejectsCutOrCorruptGzip) {
  TempDir dir{"idx"};
  write_plain(dir / "lbl", idx_labels(kLabels));
  write_gzip(dir / "img.gz", idx_images(3, 2, 3, kPixels));
  Bytes gz = slurp(dir / "img.gz");
  Bytes cut(gz.begin(), gz.end() - 6);  // into the CRC/size trailer: the data itself is complete
  write_plain(dir / "cut.gz", cut);
  expect_invalid([&] { read_idx(dir / "cut.gz", dir / "lbl"); }, {"gzip stream that ends early"});
  Bytes corrupt = gz;
  corrupt[corrupt.size() - 5] ^= 0xFF;  // the stored CRC no longer matches
  write_plain(dir / "corrupt.gz", corrupt);
  expect_invalid([&] { read_idx(dir / "corrupt.gz", dir / "lbl"); },
                 {"cannot be decompressed", "gzip error"});
}

TEST(ReadIdx, RejectsTrailingBytes) {
  TempDir dir{"idx"};
  write_plain(dir / "lbl", idx_labels(kLabels));
  Bytes img = idx_images(3, 2, 3, kPixels);
  img.push_back(0);
  img.push_back(0);
  write_plain(dir / "img", img);
  write_gzip(dir / "img.gz", img);
  expect_invalid([&] { read_idx(dir / "img", dir / "lbl"); },
                 {"2 trailing bytes", "exactly the bytes the header declares"});
  expect_invalid([&] { read_idx(dir / "img.gz", dir / "lbl"); }, {"2 trailing bytes"});
  Bytes lbl = idx_labels(kLabels);
  lbl.push_back(1);
  write_plain(dir / "lbl-long", lbl);
  write_plain(dir / "img-ok", idx_images(3, 2, 3, kPixels));
  expect_invalid([&] { read_idx(dir / "img-ok", dir / "lbl-long"); },
                 {"label file", "1 trailing bytes"});
}

TEST(ReadIdx, RejectsCountMismatchLabelRangeAndShapes) {
  TempDir dir{"idx"};
  write_plain(dir / "img", idx_images(3, 2, 3, kPixels));
  write_plain(dir / "lbl2", idx_labels(Bytes{1, 2}));
  expect_invalid([&] { read_idx(dir / "img", dir / "lbl2"); },
                 {"holds 3 images", "holds 2 labels", "the same count"});
  write_plain(dir / "lbl", idx_labels(kLabels));
  expect_invalid([&] { read_idx(dir / "img", dir / "lbl", 9); },
                 {"has label 9 at index 0", "labels 0..8"});
  EXPECT_EQ(read_idx(dir / "img", dir / "lbl", 256).num_classes, 256);
  expect_invalid([&] { read_idx(dir / "img", dir / "lbl", 0); }, {"num_classes = 0", "1..256"});
  write_plain(dir / "flat", idx_images(3, 0, 3, Bytes{}));
  expect_invalid([&] { read_idx(dir / "flat", dir / "lbl"); }, {"rows >= 1"});
}

TEST(ReadIdx, RejectsMissingFiles) {
  TempDir dir{"idx"};
  write_plain(dir / "lbl", idx_labels(kLabels));
  expect_invalid([&] { read_idx(dir / "nope", dir / "lbl"); },
                 {"image file", "nope", "does not exist"});
  write_plain(dir / "img", idx_images(3, 2, 3, kPixels));
  expect_invalid([&] { read_idx(dir / "img", dir / "nope"); }, {"label file", "does not exist"});
  expect_invalid([&] { read_idx(dir.path(), dir / "lbl"); }, {"is a directory"});
}

// Writes the four MNIST-style files: train with `train` images, t10k with `test` images, 1 x 2
// each.
void write_mnist_style(const TempDir& dir, bool gzip_train, bool gzip_test, std::uint8_t fill) {
  auto write = [&](const std::string& stem, std::uint32_t n, bool gz) {
    const Bytes pixels(2 * n, fill);
    const Bytes labels(n, 1);
    auto put = gz ? write_gzip : write_plain;
    const std::string suffix = gz ? ".gz" : "";
    put(dir / (stem + "-images-idx3-ubyte" + suffix), idx_images(n, 1, 2, pixels));
    put(dir / (stem + "-labels-idx1-ubyte" + suffix), idx_labels(labels));
  };
  write("train", 5, gzip_train);
  write("t10k", 2, gzip_test);
}

TEST(LoadMnistStyle, ReadsPlainOrGzipAndPrefersPlain) {
  TempDir dir{"idx"};
  write_mnist_style(dir, true, false, 255);
  ImageData d = load_mnist_style(dir.path());
  EXPECT_EQ(d.train.count, 5);
  EXPECT_EQ(d.test.count, 2);
  EXPECT_EQ(d.train.pixels_per_image(), 2);
  EXPECT_EQ(d.train.pixels[0], 1.0f);
  // Both spellings present: the plain one wins.
  write_mnist_style(dir, false, true, 0);
  d = load_mnist_style(dir.path());
  EXPECT_EQ(d.train.pixels[0], 0.0f);
  EXPECT_EQ(d.test.pixels[0], 1.0f);
}

TEST(LoadMnistStyle, ListsTheNamesLookedFor) {
  TempDir dir{"idx"};
  write_mnist_style(dir, true, true, 3);
  fs::remove(dir / "t10k-labels-idx1-ubyte.gz");
  expect_invalid([&] { load_mnist_style(dir.path()); },
                 {"neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz",
                  "train-images-idx3-ubyte[.gz]", "t10k-images-idx3-ubyte[.gz]"});
  expect_invalid([&] { load_mnist_style(dir / "absent"); }, {"absent", "is not a directory"});
}

// ---- the batcher ----

// n images of h x w whose pixels are all distinct and nonzero within each image, image i's first
// pixel identifying it; labels i % 10.
ImageSet numbered_set(Index n, Index h = 2, Index w = 2) {
  ImageSet s;
  s.count = n;
  s.height = h;
  s.width = w;
  for (Index i = 0; i < n; ++i) {
    s.labels.push_back(static_cast<std::uint8_t>(i % 10));
    for (Index p = 0; p < h * w; ++p) s.pixels.push_back(static_cast<float>(i * 1000 + p + 1));
  }
  return s;
}

// The sample indices of one epoch, in order, with the batch sizes seen.
struct Epoch {
  std::vector<Index> samples;
  std::vector<Index> batch_rows;
  std::vector<float> pixels;
};

Epoch run_epoch(ImageBatcher& b, const ImageSet& s, std::uint64_t epoch) {
  b.start_epoch(epoch);
  Epoch e;
  Matrix<float> x;
  std::vector<int> labels;
  while (b.next(x, labels)) {
    EXPECT_EQ(x.cols(), s.pixels_per_image());
    EXPECT_EQ(static_cast<Index>(labels.size()), x.rows());
    e.batch_rows.push_back(x.rows());
    for (Index r = 0; r < x.rows(); ++r) {
      const auto sample = static_cast<Index>(std::lround((x(r, 0) - 1) / 1000));
      if (!b.options().augment) {
        EXPECT_EQ(labels[static_cast<std::size_t>(r)], sample % 10);
        for (Index p = 0; p < x.cols(); ++p)
          EXPECT_EQ(x(r, p), s.pixels[static_cast<std::size_t>(sample * x.cols() + p)]);
      }
      e.samples.push_back(sample);
    }
    e.pixels.insert(e.pixels.end(), x.data(), x.data() + x.size());
  }
  return e;
}

TEST(ImageBatcher, ValidatesOptionsAndSet) {
  const ImageSet s = numbered_set(4);
  expect_invalid([&] { (void)ImageBatcher(s, {.batch_size = 0}); }, {"batch_size = 0", ">= 1"});
  expect_invalid([&] { (void)ImageBatcher(s, {.pad = -1}); }, {"pad = -1"});
  ImageSet bad = s;
  bad.pixels.pop_back();
  expect_invalid([&] { (void)ImageBatcher(bad, {}); }, {"15 pixels for 4 images"});
  bad = s;
  bad.labels[2] = 10;
  expect_invalid([&] { (void)ImageBatcher(bad, {}); }, {"label 10 at index 2"});
}

TEST(ImageBatcher, ShuffleIsAPermutationEveryEpoch) {
  const ImageSet s = numbered_set(10);
  ImageBatcher b(s, {.batch_size = 3, .seed = 42});
  EXPECT_EQ(b.batches_per_epoch(), 4);
  std::vector<Index> all(10);
  std::iota(all.begin(), all.end(), 0);
  for (std::uint64_t epoch = 0; epoch < 5; ++epoch) {
    const Epoch e = run_epoch(b, s, epoch);
    EXPECT_EQ(e.batch_rows, (std::vector<Index>{3, 3, 3, 1}));
    std::vector<Index> sorted = e.samples;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, all) << "epoch " << epoch;
    EXPECT_NE(e.samples, all) << "epoch " << epoch << " left in file order";
  }
}

TEST(ImageBatcher, ReproducibleForSeedAndEpochOnly) {
  const ImageSet s = numbered_set(50);
  ImageBatcher a(s, {.batch_size = 8, .augment = true, .seed = 7});
  ImageBatcher b(s, {.batch_size = 8, .augment = true, .seed = 7});
  // b resumes at epoch 3 directly; a walks 0, 1, 2, 3.
  const Epoch a0 = run_epoch(a, s, 0), a1 = run_epoch(a, s, 1);
  run_epoch(a, s, 2);
  const Epoch a3 = run_epoch(a, s, 3);
  const Epoch b3 = run_epoch(b, s, 3);
  EXPECT_EQ(a3.samples, b3.samples);
  EXPECT_EQ(a3.pixels, b3.pixels);
  EXPECT_NE(a0.samples, a1.samples);
  EXPECT_NE(a0.pixels, a1.pixels);
  // Crops follow the sample's place in the epoch, not the batch size.
  ImageBatcher c(s, {.batch_size = 5, .augment = true, .seed = 7});
  EXPECT_EQ(run_epoch(c, s, 3).pixels, a3.pixels);
  ImageBatcher other_seed(s, {.batch_size = 8, .augment = true, .seed = 8});
  EXPECT_NE(run_epoch(other_seed, s, 3).samples, a3.samples);
}

TEST(ImageBatcher, PinnedOrder) {
  // The generator is ours (splitmix64), so the order is the same with every standard library and
  // compiler; a change here would break resuming runs written by earlier versions.
  const ImageSet s = numbered_set(10);
  ImageBatcher b(s, {.batch_size = 10, .seed = 0});
  const Epoch e = run_epoch(b, s, 0);
  EXPECT_EQ(e.samples, (std::vector<Index>{0, 1, 4, 6, 3, 9, 8, 7, 2, 5}));
}

TEST(ImageBatcher, NoShuffleKeepsFileOrder) {
  const ImageSet s = numbered_set(7);
  ImageBatcher b(s, {.batch_size = 7, .shuffle = false, .seed = 99});
  for (std::uint64_t epoch : {0u, 5u})
    EXPECT_EQ(run_epoch(b, s, epoch).samples, (std::vector<Index>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(ImageBatcher, LastPartialBatchPerDropLast) {
  const ImageSet s = numbered_set(10);
  ImageBatcher keep(s, {.batch_size = 4, .drop_last = false});
  EXPECT_EQ(keep.batches_per_epoch(), 3);
  EXPECT_EQ(run_epoch(keep, s, 0).batch_rows, (std::vector<Index>{4, 4, 2}));
  ImageBatcher drop(s, {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(drop.batches_per_epoch(), 2);
  const Epoch e = run_epoch(drop, s, 0);
  EXPECT_EQ(e.batch_rows, (std::vector<Index>{4, 4}));
  EXPECT_EQ(std::set<Index>(e.samples.begin(), e.samples.end()).size(), 8u);
  ImageBatcher big(s, {.batch_size = 16, .drop_last = true});
  EXPECT_EQ(big.batches_per_epoch(), 0);
  EXPECT_TRUE(run_epoch(big, s, 0).batch_rows.empty());
  ImageBatcher exact(s, {.batch_size = 5, .drop_last = true});
  EXPECT_EQ(run_epoch(exact, s, 1).batch_rows, (std::vector<Index>{5, 5}));
  // At the end, next leaves its arguments alone.
  Matrix<float> x = Matrix<float>::Constant(1, 1, 3.0f);
  std::vector<int> labels{5};
  EXPECT_FALSE(big.next(x, labels));
  EXPECT_EQ(x(0, 0), 3.0f);
  EXPECT_EQ(labels, std::vector<int>{5});
}

TEST(ImageBatcher, AugmentShiftsWithZerosOutside) {
  const Index h = 6, w = 5;
  const ImageSet s = numbered_set(100, h, w);
  ImageBatcher b(s, {.batch_size = 32, .augment = true, .pad = 4, .seed = 3});
  std::set<std::pair<Index, Index>> shifts_seen;
  for (std::uint64_t epoch = 0; epoch < 20; ++epoch) {
    b.start_epoch(epoch);
    Matrix<float> x;
    std::vector<int> labels;
    while (b.next(x, labels)) {
      for (Index r = 0; r < x.rows(); ++r) {
        // The image's identity: its label and the first nonzero pixel (ids are 1000 apart).
        float any = 0;
        for (Index p = 0; p < x.cols() && any == 0; ++p) any = x(r, p);
        ASSERT_GT(any, 0.0f) << "a 6 x 5 image shifted by at most 4 keeps some pixels";
        const auto sample = static_cast<Index>(std::floor((any - 1) / 1000));
        EXPECT_EQ(labels[static_cast<std::size_t>(r)], sample % 10);
        const float* in = s.pixels.data() + sample * h * w;
        int matches = 0;
        for (Index dy = -4; dy <= 4; ++dy)
          for (Index dx = -4; dx <= 4; ++dx) {
            bool same = true;
            for (Index i = 0; i < h && same; ++i)
              for (Index j = 0; j < w && same; ++j) {
                const Index si = i + dy, sj = j + dx;
                const float expected =
                    (si >= 0 && si < h && sj >= 0 && sj < w) ? in[si * w + sj] : 0;
                same = x(r, i * w + j) == expected;
              }
            if (same) {
              ++matches;
              shifts_seen.insert({dy, dx});
            }
          }
        EXPECT_EQ(matches, 1) << "epoch " << epoch << " row " << r;
      }
    }
  }
  EXPECT_EQ(shifts_seen.size(), 81u) << "every shift in [-4, 4]^2 should occur in 2000 draws";
}

TEST(ImageBatcher, AugmentWithZeroPadIsIdentity) {
  const ImageSet s = numbered_set(6, 3, 3);
  ImageBatcher plain(s, {.batch_size = 4, .augment = false, .seed = 1});
  ImageBatcher padless(s, {.batch_size = 4, .augment = true, .pad = 0, .seed = 1});
  EXPECT_EQ(run_epoch(plain, s, 2).pixels, run_epoch(padless, s, 2).pixels);
}

TEST(ImageBatcher, NoAllocationAfterTheFirstFullBatch) {
  if (!testing::alloc_count::is_live()) GTEST_SKIP() << "allocation counter not live";
  const ImageSet s = numbered_set(64, 8, 8);
  ImageBatcher b(s, {.batch_size = 16, .augment = true, .drop_last = false, .seed = 5});
  Matrix<float> x;
  std::vector<int> labels;
  ASSERT_TRUE(b.next(x, labels));
  const long steady = testing::alloc_count::count([&] {
    for (std::uint64_t epoch = 1; epoch < 4; ++epoch) {
      b.start_epoch(epoch);
      while (b.next(x, labels)) {
      }
    }
  });
  EXPECT_EQ(steady, 0);
  // next_into writes into caller buffers and never allocates, partial batches included.
  const ImageSet ten = numbered_set(10, 8, 8);
  ImageBatcher p(ten, {.batch_size = 4});
  Matrix<float> buffer(4, 64);
  std::vector<int> lbl(4);
  std::vector<Index> rows;
  rows.reserve(8);
  const long into = testing::alloc_count::count([&] {
    for (Index n; (n = p.next_into(MatrixView<float>(buffer.data(), 4, 64), lbl)) > 0;)
      rows.push_back(n);
  });
  EXPECT_EQ(into, 0);
  EXPECT_EQ(rows, (std::vector<Index>{4, 4, 2}));
}

TEST(ImageBatcher, NextIntoChecksBufferShape) {
  const ImageSet s = numbered_set(10, 2, 2);
  ImageBatcher b(s, {.batch_size = 4});
  Matrix<float> small(3, 4);
  std::vector<int> labels(4);
  expect_invalid([&] { b.next_into(MatrixView<float>(small.data(), 3, 4), labels); },
                 {"next_into", "at least 4 rows"});
  Matrix<float> wide(4, 5);
  expect_invalid([&] { b.next_into(MatrixView<float>(wide.data(), 4, 5), labels); }, {"4 columns"});
}

TEST(ImageSet, HeadTakesAPrefix) {
  const ImageSet s = numbered_set(5, 2, 3);
  const ImageSet h = head(s, 2);
  EXPECT_EQ(h.count, 2);
  EXPECT_EQ(h.pixels, std::vector<float>(s.pixels.begin(), s.pixels.begin() + 12));
  EXPECT_EQ(h.labels, (std::vector<std::uint8_t>{0, 1}));
  EXPECT_EQ(head(s, 99).count, 5);
  EXPECT_EQ(head(s, 0).pixels.size(), 0u);
  expect_invalid([&] { head(s, -1); }, {"n = -1"});
}

TEST(FashionMnist, LoadsDebianPackage) {
  if (!fs::is_directory(kFashionMnistDir))
    GTEST_SKIP() << kFashionMnistDir << " absent (Debian package dataset-fashion-mnist)";
  const ImageData d = load_mnist_style(kFashionMnistDir);
  const auto check = [](const ImageSet& s, Index count, double mean, const char* name) {
    SCOPED_TRACE(name);
    EXPECT_EQ(s.count, count);
    EXPECT_EQ(s.height, 28);
    EXPECT_EQ(s.width, 28);
    ASSERT_EQ(s.pixels.size(), static_cast<std::size_t>(count * 28 * 28));
    // Fashion-MNIST is balanced: count / 10 images of each class.
    std::vector<Index> per_class(10, 0);
    for (std::uint8_t l : s.labels) ++per_class.at(l);
    EXPECT_EQ(per_class, std::vector<Index>(10, count / 10));
    double sum = 0;
    float lo = 1, hi = 0;
    for (float p : s.pixels) {
      sum += p;
      lo = std::min(lo, p);
      hi = std::max(hi, p);
    }
    EXPECT_NEAR(sum / static_cast<double>(s.pixels.size()), mean, 0.003);
    EXPECT_EQ(lo, 0.0f);
    EXPECT_EQ(hi, 1.0f);
  };
  check(d.train, 60000, 0.2860, "train");
  check(d.test, 10000, 0.2868, "test");
}

}  // namespace
}  // namespace neuralode::train
