// Issue 21, bad input to the IDX reader: headers that lie about the file's size (plain and gzip,
// a "gzip bomb"), data too large for the machine, reading only the records asked for, wrong
// element types, and messages naming the file and the record with its byte offset. Every file is
// a few bytes written here (a sparse file stands in for a large one).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/train/image_data.hpp"
#include "neuralode/train/process_memory.hpp"
#include "support/expect_error.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

using neuralode::test_support::message_of;

namespace neuralode::train {
namespace {

namespace fs = std::filesystem;
using test_support::Bytes;
using test_support::idx_images;
using test_support::idx_labels;
using test_support::TempDir;
using test_support::write_gzip;
using test_support::write_plain;

#define EXPECT_MENTIONS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// n images of rows x cols, image i filled with the byte i, labels i % 10.
Bytes numbered_pixels(std::uint32_t n, std::uint32_t per_image) {
  Bytes p;
  for (std::uint32_t i = 0; i < n; ++i) p.insert(p.end(), per_image, static_cast<std::uint8_t>(i));
  return p;
}
Bytes numbered_labels(std::uint32_t n) {
  Bytes l;
  for (std::uint32_t i = 0; i < n; ++i) l.push_back(static_cast<std::uint8_t>(i % 10));
  return l;
}

TEST(ReadIdxBadInput, PlainHeaderDeclaringMoreThanTheFileIsRefusedBeforeReading) {
  TempDir dir{"idxbad"};
  // 3 images of 2x2 present, a million declared: refused from the file size, naming the first
  // incomplete image and where it starts.
  write_plain(dir / "img", idx_images(1000000, 2, 2, numbered_pixels(3, 4)));
  write_plain(dir / "lbl", idx_labels(numbered_labels(3)));
  const std::string m = message_of<InvalidArgument>([&] { read_idx(dir / "img", dir / "lbl"); });
  EXPECT_MENTIONS(m, "img");
  EXPECT_MENTIONS(m, "declares 4000000 data bytes but only 12 follow");
  EXPECT_MENTIONS(m, "image 3 is the first incomplete one, at byte 28");
}

// Regression (issue 21, found by fuzz/image_data_fuzz.cpp): with a count of 0 the declared total
// is 0 whatever the image size, so 2^32-1 x 2^32-1 pixels per image passed the size checks and
// overflowed rows * cols later (UBSan: signed integer overflow in pixels_per_image).
TEST(ReadIdxBadInput, AnAbsurdImageSizeIsRefusedEvenWithNoImages) {
  TempDir dir{"idxbad"};
  write_plain(dir / "img", idx_images(0, 0xFFFFFFFFu, 0xFFFFFFFFu, Bytes{}));
  write_plain(dir / "lbl", idx_labels(Bytes{}));
  const std::string m = message_of<InvalidArgument>([&] { read_idx(dir / "img", dir / "lbl"); });
  EXPECT_MENTIONS(m, "declares 0 x 4294967295 x 4294967295 pixels");
  ImageSet set;
  set.height = set.width = Index{1} << 32;
  set.count = Index{1} << 32;
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { set.validate(); }), "overflows");
}

TEST(ReadIdxBadInput, GzipHeaderDeclaringMoreThanDeflateCanHoldIsRefused) {
  TempDir dir{"idxbad"};
  // 100000 x 28 x 28 = 78 MB declared in a gzip file of a few dozen bytes: no deflate stream that
  // small expands that far (at most 1032:1), so the header is refused before decompressing.
  write_gzip(dir / "img.gz", idx_images(100000, 28, 28, Bytes{}));
  write_plain(dir / "lbl", idx_labels(numbered_labels(3)));
  const std::string m = message_of<InvalidArgument>([&] { read_idx(dir / "img.gz", dir / "lbl"); });
  EXPECT_MENTIONS(m, "declares 78400000 data bytes, more than a gzip file of");
  EXPECT_MENTIONS(m, "1032:1");
}

TEST(ReadIdxBadInput, MaxCountDecompressesOnlyTheImagesAsked) {
  TempDir dir{"idxbad"};
  const std::uint32_t n = 400, per = 28 * 28;
  write_gzip(dir / "full.gz", idx_images(n, 28, 28, numbered_pixels(n, per)));
  write_plain(dir / "lbl", idx_labels(numbered_labels(n)));
  // Cut the gzip file in half: the first images decompress, the rest is missing. Reading all of
  // it fails; reading the first 5 succeeds, which shows nothing past them was decompressed.
  const auto size = fs::file_size(dir / "full.gz");
  fs::copy_file(dir / "full.gz", dir / "half.gz");
  fs::resize_file(dir / "half.gz", size / 2);
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { read_idx(dir / "half.gz", dir / "lbl"); }),
                  "half.gz");
  const ImageSet s = read_idx(dir / "half.gz", dir / "lbl", 10, 5);
  ASSERT_EQ(s.count, 5);
  ASSERT_EQ(s.pixels.size(), 5u * per);
  EXPECT_EQ(s.pixels.capacity(), 5u * per);  // nothing reserved for the 395 not asked for
  EXPECT_EQ(s.pixels[4 * per], 4.0f / 255.0f);
  ASSERT_EQ(s.labels.size(), 5u);
  EXPECT_EQ(s.labels[4], 4);
  // max_count 0 reads no data at all; larger than the file reads everything there is.
  EXPECT_EQ(read_idx(dir / "full.gz", dir / "lbl", 10, 0).count, 0);
  EXPECT_EQ(read_idx(dir / "full.gz", dir / "lbl", 10, 1000000).count, n);
}

TEST(ReadIdxBadInput, DataLargerThanAvailableMemoryIsRefusedBeforeAllocating) {
  const std::size_t available = available_memory_bytes();
  if (available == 0) GTEST_SKIP() << "no /proc/meminfo";
  TempDir dir{"idxbad"};
  // A gzip member holding only the header, extended by a hole to 1.1 GB (sparse: no disk used),
  // declaring 2^40 pixels: within deflate's ratio of the file size, so only the memory check
  // (4 TiB of floats) stops it.
  const std::uint32_t count = 1u << 24, rows = 256, cols = 256;
  write_gzip(dir / "big.gz", idx_images(count, rows, cols, Bytes{}));
  fs::resize_file(dir / "big.gz", std::uint64_t{1100} << 20);
  write_plain(dir / "lbl", idx_labels(numbered_labels(3)));
  ASSERT_LT(available, std::uint64_t{count} * rows * cols * sizeof(float));
  const std::string m = message_of<InvalidArgument>([&] { read_idx(dir / "big.gz", dir / "lbl"); });
  EXPECT_MENTIONS(m, "would need 4.0 TiB");
  EXPECT_MENTIONS(m, "to hold 16777216 images");
  EXPECT_MENTIONS(m, "available");
  EXPECT_MENTIONS(m, "read fewer records");
}

TEST(ReadIdxBadInput, ElementTypeAndNonIdxMagicAreNamed) {
  TempDir dir{"idxbad"};
  write_plain(dir / "lbl", idx_labels(numbered_labels(1)));
  write_plain(dir / "f64", idx_images(1, 2, 2, numbered_pixels(1, 4), 0x00000E03));
  const std::string m = message_of<InvalidArgument>([&] { read_idx(dir / "f64", dir / "lbl"); });
  EXPECT_MENTIONS(m, "magic number 0x00000E03 (element type 0x0E = float64, 3 dimensions)");
  EXPECT_MENTIONS(m, "accepted: magic number 0x00000803");
  write_plain(dir / "png", idx_images(1, 2, 2, numbered_pixels(1, 4), 0x89504E47));
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { read_idx(dir / "png", dir / "lbl"); }),
                  "not an IDX file");
}

TEST(ReadIdxBadInput, CountMismatchIsFoundFromTheHeadersBeforeTheLabelsAreRead) {
  TempDir dir{"idxbad"};
  write_plain(dir / "img", idx_images(3, 2, 2, numbered_pixels(3, 4)));
  // The label file declares 5 but holds 2: the counts disagree, which the message says (rather
  // than the truncation, which follows from it).
  write_plain(dir / "lbl", idx_labels(numbered_labels(2), 5));
  const std::string m = message_of<InvalidArgument>([&] { read_idx(dir / "img", dir / "lbl"); });
  EXPECT_MENTIONS(m, "holds 3 images but label file");
  EXPECT_MENTIONS(m, "holds 5 labels");
}

TEST(ReadIdxBadInput, TruncatedGzipAndBadLabelNameTheRecordAndByte) {
  TempDir dir{"idxbad"};
  Bytes img = idx_images(3, 2, 2, numbered_pixels(3, 4));
  img.resize(img.size() - 3);  // image 2 loses three of its four bytes
  write_gzip(dir / "img.gz", img);
  write_plain(dir / "lbl", idx_labels(numbered_labels(3)));
  const std::string m = message_of<InvalidArgument>([&] { read_idx(dir / "img.gz", dir / "lbl"); });
  EXPECT_MENTIONS(m, "(gzip-compressed) is truncated");
  EXPECT_MENTIONS(m, "image 2 of 3, at byte 24, is cut short");
  write_plain(dir / "img", idx_images(3, 2, 2, numbered_pixels(3, 4)));
  write_plain(dir / "lbl-bad", idx_labels(Bytes{1, 2, 12}));
  const std::string l =
      message_of<InvalidArgument>([&] { read_idx(dir / "img", dir / "lbl-bad"); });
  EXPECT_MENTIONS(l, "lbl-bad");
  EXPECT_MENTIONS(l, "has label 12 at index 2 (byte 10)");
  EXPECT_MENTIONS(l, "labels 0..9");
}

TEST(LoadMnistStyleBadInput, TrainingAndTestImagesOfDifferentSizesAreRefused) {
  TempDir dir{"idxbad"};
  write_plain(dir / "train-images-idx3-ubyte", idx_images(2, 2, 2, numbered_pixels(2, 4)));
  write_plain(dir / "train-labels-idx1-ubyte", idx_labels(numbered_labels(2)));
  write_plain(dir / "t10k-images-idx3-ubyte", idx_images(2, 3, 3, numbered_pixels(2, 9)));
  write_plain(dir / "t10k-labels-idx1-ubyte", idx_labels(numbered_labels(2)));
  const std::string m = message_of<InvalidArgument>([&] { load_mnist_style(dir.path()); });
  EXPECT_MENTIONS(m, "training images are 2 x 2 pixels but the test images 3 x 3");
  // Limits apply per set.
  write_plain(dir / "t10k-images-idx3-ubyte", idx_images(2, 2, 2, numbered_pixels(2, 4)));
  const ImageData d = load_mnist_style(dir.path(), 1, kAllRecords);
  EXPECT_EQ(d.train.count, 1);
}

TEST(ImageBatcherBadInput, SkipServesWhatNextWouldHaveAndRefusesPastTheEnd) {
  ImageSet s;
  s.count = 10, s.height = 1, s.width = 1;
  for (int i = 0; i < 10; ++i) s.pixels.push_back(static_cast<float>(i)), s.labels.push_back(i);
  BatcherOptions o{.batch_size = 3, .shuffle = true, .augment = false, .seed = 7};
  ImageBatcher a(s, o), b(s, o);
  a.start_epoch(2), b.start_epoch(2);
  Matrix<float> xa, xb;
  std::vector<int> la, lb;
  a.next(xa, la), a.next(xa, la), a.next(xa, la);
  b.skip(2);
  b.next(xb, lb);
  EXPECT_EQ(la, lb);
  EXPECT_EQ(xa, xb);
  b.start_epoch(0);
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { b.skip(5); }), "only 4 are left");
  EXPECT_MENTIONS(message_of<InvalidArgument>([&] { b.skip(-1); }), "accepted: >= 0");
}

}  // namespace
}  // namespace neuralode::train
