// IDX reading (the format of LeCun's MNIST page: a 4-byte big-endian magic whose third byte is the
// element type (0x08 = uint8) and fourth the number of dimensions, one big-endian uint32 per
// dimension, then the elements) and the seeded image batcher.
#include "neuralode/train/image_data.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/train/process_memory.hpp"
#include "train/memory_budget.hpp"

namespace neuralode::train {

namespace fs = std::filesystem;
using detail::cat;

namespace {

constexpr std::uint32_t kImageMagic = 0x00000803;
constexpr std::uint32_t kLabelMagic = 0x00000801;
// A header declaring more elements than this is corrupt rather than a real data set (Fashion-MNIST
// has 4.7e7 pixels); the limit also keeps count * rows * cols far from overflowing.
constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 40;
// Deflate cannot expand its input by more than 1032:1 (a run of equal bytes costs at least about
// 1 bit per 258 of them; zlib's technical notes, "Maximum compression factor"). A gzip file whose
// IDX header declares more data than 1032 times its own size, plus some slack for the gzip and
// deflate framing, cannot hold that data: the header is corrupt, refused before any reading.
constexpr std::uint64_t kMaxDeflateRatio = 1032;
constexpr std::uint64_t kIdxHeaderBytes[] = {0, 8, 0, 16};  // by number of dimensions (1 or 3)

// One IDX file opened through zlib, which decodes a stream starting with the gzip magic 1f 8b and
// passes anything else through unchanged: detection by content, never by name.
class IdxFile {
 public:
  IdxFile(const fs::path& path, const char* kind) : path_(path), kind_(kind) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status))
      fail("does not exist", cat("an IDX ", kind_, ", plain or gzip-compressed"));
    if (fs::is_directory(status))
      fail("is a directory", cat("an IDX ", kind_, ", plain or gzip-compressed"));
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) fail(cat("cannot be opened: ", std::strerror(errno)), "a readable file");
    // Bigger than zlib's 8 KiB default: the training images are 47 MB decompressed.
    gzbuffer(file_, 1 << 17);
  }
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;
  ~IdxFile() {
    if (file_ != nullptr) gzclose(file_);
  }

  // Reads up to n bytes; fewer only at the end of the data. Throws on a corrupt or cut gzip stream.
  std::size_t read(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t done = 0;
    while (done < n) {
      // gzread takes an unsigned and returns an int: read in pieces that fit both.
      const auto piece = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
      const int got = gzread(file_, out + done, piece);
      if (got < 0) stream_failed();
      done += static_cast<std::size_t>(got);
      if (static_cast<unsigned>(got) < piece) {
        int errnum = Z_OK;
        gzerror(file_, &errnum);
        if (errnum != Z_OK) stream_failed();
        break;
      }
    }
    return done;
  }

  // Bytes left until the end of the data (reads them).
  std::uint64_t count_rest() {
    std::array<unsigned char, 1 << 14> sink;
    std::uint64_t rest = 0;
    for (std::size_t got; (got = read(sink.data(), sink.size())) > 0;) rest += got;
    return rest;
  }

  std::uint32_t read_u32(const char* field) {
    std::array<unsigned char, 4> b{};
    const std::size_t got = read(b.data(), b.size());
    if (got < b.size())
      fail(cat("ends inside the header, at its ", field, " (", bytes_read_ + got, " bytes in all)"),
           cat("a header of a 4-byte magic number and one 4-byte big-endian size per dimension"));
    bytes_read_ += 4;
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
  }

  [[noreturn]] void fail(const std::string& problem, const std::string& accepted) const {
    throw InvalidArgument(cat("read_idx: ", kind_, " ", path_, compression(), " ", problem,
                              "; accepted: ", accepted));
  }

  // Before any data is read: checks that the file can hold the `declared` data bytes that follow
  // its `header` bytes. A plain file must have exactly header + declared bytes (so truncation and
  // trailing bytes are found without reading); a gzip file must be large enough for deflate's
  // largest expansion, so a small file cannot make us decompress (and keep) gigabytes. `bytes_per`
  // and `unit` name the records ("image", "label") for the message.
  void check_declared_size(std::uint64_t header, std::uint64_t declared, std::uint64_t bytes_per,
                           const char* unit) {
    std::error_code ec;
    const std::uint64_t size = fs::file_size(path_, ec);
    if (ec) return;  // not a regular file (a pipe): the reads find the truth
    if (gzdirect(file_)) {
      const std::uint64_t data = size >= header ? size - header : 0;
      if (data < declared) {
        const std::uint64_t whole = data / bytes_per;
        fail(cat("is truncated: its header declares ", declared, " data bytes but only ", data,
                 " follow (the file is ", size, " bytes; ", unit, " ", whole,
                 " is the first incomplete one, at byte ", header + whole * bytes_per, ")"),
             "exactly the bytes the header declares");
      }
      if (data > declared)
        fail(cat("has ", data - declared, " trailing bytes after the ", declared,
                 " data bytes its header declares"),
             "exactly the bytes the header declares");
      return;
    }
    constexpr std::uint64_t kSlack = 1 << 16;
    if (declared / kMaxDeflateRatio > size + kSlack)
      fail(cat("declares ", declared, " data bytes, more than a gzip file of ", size,
               " bytes can hold (deflate expands at most ", kMaxDeflateRatio,
               ":1): the header is corrupt"),
           "a header whose sizes match the data");
  }

 private:
  [[noreturn]] void stream_failed() const {
    int errnum = Z_OK;
    const char* message = gzerror(file_, &errnum);
    if (errnum == Z_BUF_ERROR)
      fail("is a gzip stream that ends early (the .gz file is cut short)",
           "a complete gzip stream or a plain file");
    fail(cat("cannot be decompressed: gzip error '", message, "'"),
         "a valid gzip stream or a plain file");
  }

  std::string compression() const {
    if (file_ == nullptr) return "";
    return gzdirect(file_) ? " (plain)" : " (gzip-compressed)";
  }

  fs::path path_;
  const char* kind_;
  gzFile file_ = nullptr;
  std::uint64_t bytes_read_ = 0;  // header bytes, for messages
};

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

// What the magic number's bytes say (LeCun's IDX description: two zero bytes, the element type,
// the number of dimensions), for a message about a magic that is not the one expected.
std::string describe_magic(std::uint32_t magic) {
  if (magic == kImageMagic) return " (an IDX image file's)";
  if (magic == kLabelMagic) return " (an IDX label file's)";
  if ((magic >> 16) != 0) return " (not an IDX file: an IDX file starts with two zero bytes)";
  const unsigned type = (magic >> 8) & 0xFF, dims = magic & 0xFF;
  const char* type_name = type == 0x08   ? "unsigned byte"
                          : type == 0x09 ? "signed byte"
                          : type == 0x0B ? "int16"
                          : type == 0x0C ? "int32"
                          : type == 0x0D ? "float32"
                          : type == 0x0E ? "float64"
                                         : nullptr;
  return cat(" (element type 0x", hex(type).substr(8),
             type_name ? cat(" = ", type_name) : " unknown", ", ", dims, " dimensions)");
}

// Reads the magic and the sizes; checks the magic is `expected` (uint8, dims.size() dimensions).
void read_header(IdxFile& f, std::uint32_t expected, std::span<std::uint32_t> dims,
                 const char* layout) {
  const std::uint32_t magic = f.read_u32("magic number");
  if (magic != expected)
    f.fail(cat("has magic number ", hex(magic), describe_magic(magic)),
           cat("magic number ", hex(expected), " (unsigned bytes, ", layout, ")"));
  const char* names[] = {"first size", "second size", "third size"};
  for (std::size_t d = 0; d < dims.size(); ++d) dims[d] = f.read_u32(names[d]);
}

// Checks nothing follows the `declared` data bytes just read.
void expect_end(IdxFile& f, std::uint64_t declared) {
  const std::uint64_t rest = f.count_rest();
  if (rest > 0)
    f.fail(cat("has ", rest, " trailing bytes after the ", declared,
               " data bytes its header declares"),
           "exactly the bytes the header declares");
}

// Refuses to keep `bytes` of decoded data when the machine has less memory available, before
// anything is allocated (a corrupt header or a gzip bomb would otherwise end in std::bad_alloc).
void check_fits(const IdxFile& f, std::uint64_t records, const char* unit, std::uint64_t bytes) {
  const std::size_t available = available_memory_bytes();
  if (available == 0 || bytes <= available) return;
  f.fail(cat("would need ", detail::bytes_text(static_cast<double>(bytes)), " to hold ", records,
             " ", unit, "s, more than the ", detail::bytes_text(static_cast<double>(available)),
             " this machine has available"),
         "a file that fits in memory; read fewer records (max_count, e.g. --train-size / "
         "--test-size)");
}

// The number of records to read of `declared`: all (max_count < 0) or the first max_count.
std::uint64_t records_to_read(std::uint64_t declared, Index max_count) {
  return max_count < 0 ? declared : std::min<std::uint64_t>(declared, max_count);
}

// Reads the header and the first `max_count` images (all when < 0). Returns the count the header
// declares.
std::uint64_t read_images(const fs::path& path, ImageSet& set, Index max_count) {
  IdxFile f(path, "image file");
  std::array<std::uint32_t, 3> dims{};
  read_header(f, kImageMagic, dims, "3 dimensions: count x rows x cols");
  if (dims[1] == 0 || dims[2] == 0)
    f.fail(cat("declares images of ", dims[1], " x ", dims[2], " pixels"),
           "rows >= 1 and cols >= 1");
  const std::uint64_t per_image = std::uint64_t{dims[1]} * dims[2];
  // per_image on its own too: with a count of 0 the product below is 0 whatever the image size,
  // and rows x cols near 2^64 would overflow every later use (found by fuzz/image_data_fuzz.cpp).
  if (per_image > kMaxElements || dims[0] > kMaxElements / per_image)
    f.fail(cat("declares ", dims[0], " x ", dims[1], " x ", dims[2], " pixels"),
           cat("at most ", kMaxElements, " pixels"));
  const std::uint64_t declared = dims[0] * per_image;
  f.check_declared_size(kIdxHeaderBytes[3], declared, per_image, "image");
  const std::uint64_t count = records_to_read(dims[0], max_count);
  const std::uint64_t wanted = count * per_image;
  check_fits(f, count, "image", wanted * sizeof(float));
  set.count = static_cast<Index>(count);
  set.height = dims[1];
  set.width = dims[2];

  // uint8 -> float exactly as x / 255.0f would give it.
  std::array<float, 256> scale{};
  for (int v = 0; v < 256; ++v) scale[v] = static_cast<float>(v) / 255.0f;
  // Grow with the data actually read, so a corrupt header cannot make us reserve gigabytes for a
  // short file; the last reservation is exactly `wanted`.
  std::vector<unsigned char> chunk(std::size_t{1} << 16);
  set.pixels.clear();
  while (set.pixels.size() < wanted) {
    if (set.pixels.size() == set.pixels.capacity())
      set.pixels.reserve(std::min<std::uint64_t>(
          wanted, std::max<std::uint64_t>(2 * set.pixels.capacity(), std::uint64_t{1} << 20)));
    const std::size_t want = std::min<std::uint64_t>(chunk.size(), wanted - set.pixels.size());
    const std::size_t got = f.read(chunk.data(), want);
    for (std::size_t i = 0; i < got; ++i) set.pixels.push_back(scale[chunk[i]]);
    if (got < want) {
      const std::uint64_t have = set.pixels.size(), image = have / per_image;
      f.fail(cat("is truncated: its header declares ", declared, " data bytes but only ", have,
                 " follow (image ", image, " of ", dims[0], ", at byte ",
                 kIdxHeaderBytes[3] + image * per_image, ", is cut short)"),
             "exactly the bytes the header declares");
    }
  }
  // Only when everything was read: checking that nothing follows the images we did not want
  // would mean decompressing them (a plain file's size was checked above).
  if (count == dims[0]) expect_end(f, declared);
  return dims[0];
}

// Reads the header and the first `max_count` labels (all when < 0); `images` is the count the
// image file declares, which the label file's must equal (checked before its data is read).
void read_labels(const fs::path& path, const fs::path& images_path, std::uint64_t images,
                 ImageSet& set, Index max_count) {
  IdxFile f(path, "label file");
  std::array<std::uint32_t, 1> dims{};
  read_header(f, kLabelMagic, dims, "1 dimension: count");
  const std::uint64_t declared = dims[0];
  if (declared != images)
    throw InvalidArgument(cat("read_idx: image file ", images_path, " holds ", images,
                              " images but label file ", path, " holds ", declared,
                              " labels; accepted: the same count in both"));
  f.check_declared_size(kIdxHeaderBytes[1], declared, 1, "label");
  const std::uint64_t wanted = records_to_read(declared, max_count);
  set.labels.clear();
  // Same growth rule as the pixels.
  while (set.labels.size() < wanted) {
    const std::size_t have = set.labels.size();
    const std::size_t want =
        std::min<std::uint64_t>(wanted - have, std::max<std::size_t>(have, 1 << 16));
    set.labels.resize(have + want);
    const std::size_t got = f.read(set.labels.data() + have, want);
    if (got < want)
      f.fail(cat("is truncated: its header declares ", declared, " data bytes but only ",
                 have + got, " follow (label ", have + got, " of ", declared, ", at byte ",
                 kIdxHeaderBytes[1] + have + got, ", is missing)"),
             "exactly the bytes the header declares");
  }
  if (wanted == declared) expect_end(f, declared);
  for (std::size_t i = 0; i < set.labels.size(); ++i)
    if (set.labels[i] >= set.num_classes)
      f.fail(cat("has label ", int{set.labels[i]}, " at index ", i, " (byte ",
                 kIdxHeaderBytes[1] + i, ")"),
             cat("labels 0..", set.num_classes - 1, " (num_classes = ", set.num_classes, ")"));
}

// ---- the generator ----
// splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014): one
// 64-bit word of state, full period, and its output function is a good hash of the counter, which
// lets us key the epoch and the crops by mixing numbers into a seed.
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;

constexpr std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return mix(state_ += kGolden); }
  // Uniform in [0, n), n >= 1, without modulo bias: draws falling in the incomplete last block
  // of n are rejected (fewer than one draw in 2^32 for the n we use).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit =
        std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }

 private:
  std::uint64_t state_;
};

// Independent keys for the shuffle and the crops of one epoch: mixing in distinct stream numbers
// keeps the two from sharing draws.
std::uint64_t epoch_key(std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream) {
  return mix(mix(mix(seed) ^ epoch) ^ (stream * kGolden));
}

}  // namespace

void ImageSet::validate() const {
  if (height < 1 || width < 1 || count < 0)
    throw InvalidArgument(cat("ImageSet: count x height x width = ", count, " x ", height, " x ",
                              width, "; accepted: count >= 0, height >= 1, width >= 1"));
  if (num_classes < 1 || num_classes > 256)
    throw InvalidArgument(
        cat("ImageSet: num_classes = ", num_classes, "; accepted: 1..256 (labels are bytes)"));
  Index per_image = 0, total = 0;
  if (__builtin_mul_overflow(height, width, &per_image) ||
      __builtin_mul_overflow(count, per_image, &total))
    throw InvalidArgument(cat("ImageSet: count x height x width = ", count, " x ", height, " x ",
                              width, " overflows; accepted: a product below 2^63"));
  if (pixels.size() != static_cast<std::size_t>(total))
    throw InvalidArgument(cat("ImageSet: ", pixels.size(), " pixels for ", count, " images of ",
                              height, " x ", width,
                              "; accepted: count * height * width = ", total));
  if (labels.size() != static_cast<std::size_t>(count))
    throw InvalidArgument(cat("ImageSet: ", labels.size(), " labels for ", count,
                              " images; accepted: one label per image"));
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= num_classes)
      throw InvalidArgument(cat("ImageSet: label ", int{labels[i]}, " at index ", i,
                                "; accepted: 0..", num_classes - 1));
}

ImageSet read_idx(const fs::path& images, const fs::path& labels, int num_classes,
                  Index max_count) {
  if (num_classes < 1 || num_classes > 256)
    throw InvalidArgument(
        cat("read_idx: num_classes = ", num_classes, "; accepted: 1..256 (IDX labels are bytes)"));
  ImageSet set;
  set.num_classes = num_classes;
  const std::uint64_t declared = read_images(images, set, max_count);
  read_labels(labels, images, declared, set, max_count);
  return set;
}

ImageData load_mnist_style(const fs::path& dir, Index max_train, Index max_test) {
  constexpr const char* kNames[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InvalidArgument(
        cat("load_mnist_style: ", dir,
            fs::exists(dir, ec) ? " is not a directory" : " is not a directory (it does not exist)",
            "; accepted: a directory holding the four "
            "MNIST-style files (train|t10k)-(images-idx3|labels-idx1)-ubyte[.gz]"));
  auto find = [&](const char* name) {
    for (const fs::path& candidate : {dir / name, dir / (std::string(name) + ".gz")}) {
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) return candidate;
    }
    std::string all;
    for (const char* n : kNames) all += cat(all.empty() ? "" : ", ", n, "[.gz]");
    throw InvalidArgument(cat("load_mnist_style: ", dir, " has neither ", name, " nor ", name,
                              ".gz; accepted: a directory holding the four MNIST-style files ",
                              all));
  };
  const fs::path train_images = find(kNames[0]), train_labels = find(kNames[1]);
  const fs::path test_images = find(kNames[2]), test_labels = find(kNames[3]);
  ImageData d{read_idx(train_images, train_labels, 10, max_train),
              read_idx(test_images, test_labels, 10, max_test)};
  if (d.train.height != d.test.height || d.train.width != d.test.width)
    throw InvalidArgument(cat("load_mnist_style: ", dir, ": the training images are ",
                              d.train.height, " x ", d.train.width, " pixels but the test images ",
                              d.test.height, " x ", d.test.width,
                              "; accepted: the same image size in both sets"));
  return d;
}

ImageSet head(const ImageSet& set, Index n) {
  if (n < 0) throw InvalidArgument(cat("head: n = ", n, "; accepted: n >= 0"));
  ImageSet out;
  out.count = std::min(n, set.count);
  out.height = set.height;
  out.width = set.width;
  out.num_classes = set.num_classes;
  const auto pixels_end = set.pixels.begin() + out.count * set.pixels_per_image();
  out.pixels.assign(set.pixels.begin(), pixels_end);
  out.labels.assign(set.labels.begin(), set.labels.begin() + out.count);
  return out;
}

void BatcherOptions::validate() const {
  if (batch_size < 1)
    throw InvalidArgument(cat("ImageBatcher: batch_size = ", batch_size, "; accepted: >= 1"));
  if (pad < 0 || pad > 1 << 16)
    throw InvalidArgument(cat("ImageBatcher: pad = ", pad, "; accepted: 0..65536 pixels"));
}

ImageBatcher::ImageBatcher(const ImageSet& set, BatcherOptions options)
    : set_(&set), options_(options) {
  options_.validate();
  set.validate();
  order_.resize(static_cast<std::size_t>(set.count));
  start_epoch(0);
}

void ImageBatcher::start_epoch(std::uint64_t epoch) {
  for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<Index>(i);
  if (options_.shuffle && order_.size() > 1) {
    // Fisher-Yates: every permutation equally likely.
    SplitMix64 rng(epoch_key(options_.seed, epoch, 1));
    for (std::size_t i = order_.size() - 1; i > 0; --i)
      std::swap(order_[i], order_[rng.below(i + 1)]);
  }
  crop_key_ = epoch_key(options_.seed, epoch, 2);
  position_ = 0;
}

Index ImageBatcher::batches_per_epoch() const {
  const Index n = set_->count, b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

Index ImageBatcher::rows_of_next() const {
  const Index rows = std::min(options_.batch_size, set_->count - position_);
  if (rows <= 0 || (options_.drop_last && rows < options_.batch_size)) return 0;
  return rows;
}

void ImageBatcher::skip(Index batches) {
  if (batches < 0)
    throw InvalidArgument(cat("ImageBatcher::skip: batches = ", batches, "; accepted: >= 0"));
  for (Index b = 0; b < batches; ++b) {
    const Index rows = rows_of_next();
    if (rows == 0)
      throw InvalidArgument(cat("ImageBatcher::skip: ", batches, " batches asked but only ", b,
                                " are left in this epoch of ", batches_per_epoch()));
    position_ += rows;
  }
}

bool ImageBatcher::next(Matrix<float>& x, std::vector<int>& labels) {
  const Index rows = rows_of_next();
  if (rows == 0) return false;
  const Index cols = set_->pixels_per_image();
  if (x.rows() != rows || x.cols() != cols) x.resize(rows, cols);
  labels.resize(static_cast<std::size_t>(rows));  // shrinking keeps the capacity
  next_into(MatrixView<float>(x.data(), rows, cols), labels);
  return true;
}

Index ImageBatcher::next_into(MatrixView<float> x, std::span<int> labels) {
  const Index rows = rows_of_next();
  if (rows == 0) return 0;
  const ImageSet& set = *set_;
  const Index h = set.height, w = set.width, cols = set.pixels_per_image();
  if (x.rows() < rows || x.cols() != cols || static_cast<Index>(labels.size()) < rows)
    throw InvalidArgument(cat("ImageBatcher::next_into: x is ", x.rows(), " x ", x.cols(), " with ",
                              labels.size(), " labels; accepted: at least ", rows,
                              " rows and labels (batch_size = ", options_.batch_size, ") and ",
                              cols, " columns (height * width)"));
  const int pad = options_.pad;
  for (Index r = 0; r < rows; ++r) {
    const Index position = position_ + r;
    const Index sample = order_[static_cast<std::size_t>(position)];
    const float* src = set.pixels.data() + sample * cols;
    float* dst = x.data() + r * cols;
    labels[static_cast<std::size_t>(r)] = set.labels[static_cast<std::size_t>(sample)];
    if (!options_.augment || pad == 0) {
      std::copy(src, src + cols, dst);
      continue;
    }
    // Keyed by the sample's place in the epoch, so a crop does not depend on the batch size or
    // on how many batches were taken before.
    SplitMix64 rng(crop_key_ ^ mix(static_cast<std::uint64_t>(position)));
    const auto span = static_cast<std::uint64_t>(2 * pad + 1);
    // The window's top-left corner in the padded image is (oy, ox) in 0..2*pad; output pixel
    // (i, j) is padded pixel (i + oy, j + ox), i.e. input pixel (i + oy - pad, j + ox - pad).
    const Index dy = static_cast<Index>(rng.below(span)) - pad;
    const Index dx = static_cast<Index>(rng.below(span)) - pad;
    const Index j_begin = std::clamp<Index>(-dx, 0, w), j_end = std::clamp<Index>(w - dx, 0, w);
    for (Index i = 0; i < h; ++i) {
      float* out = dst + i * w;
      const Index si = i + dy;
      if (si < 0 || si >= h || j_begin >= j_end) {
        std::fill(out, out + w, 0.0f);
        continue;
      }
      std::fill(out, out + j_begin, 0.0f);
      const float* in = src + si * w;
      std::copy(in + j_begin + dx, in + j_end + dx, out + j_begin);
      std::fill(out + j_end, out + w, 0.0f);
    }
  }
  position_ += rows;
  return rows;
}

}  // namespace neuralode::train
