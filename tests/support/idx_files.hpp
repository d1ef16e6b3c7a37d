// Test helpers that write IDX files (the MNIST format the image loaders read) byte by byte, so a
// test can make a valid file, or one with exactly the damage it is about: a wrong magic number, a
// count that disagrees with the data, a gzip stream.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

namespace neuralode::test_support {

using Bytes = std::vector<std::uint8_t>;

// IDX sizes and magic numbers are big-endian 32-bit.
inline void put_u32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

// An image file: magic (0x803 = unsigned bytes, 3 dimensions), count, rows, cols, then `pixels`
// as given (which need not match the declared sizes).
inline Bytes idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                        const Bytes& pixels, std::uint32_t magic = 0x00000803) {
  Bytes b;
  put_u32(b, magic);
  put_u32(b, count);
  put_u32(b, rows);
  put_u32(b, cols);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

// A label file declaring `declared` labels (by default as many as given).
inline Bytes idx_labels(const Bytes& labels, std::uint32_t declared) {
  Bytes b;
  put_u32(b, 0x00000801);
  put_u32(b, declared);
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}
inline Bytes idx_labels(const Bytes& labels) {
  return idx_labels(labels, static_cast<std::uint32_t>(labels.size()));
}

inline void write_plain(const std::filesystem::path& p, const Bytes& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline void write_gzip(const std::filesystem::path& p, const Bytes& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

}  // namespace neuralode::test_support
