// A tiny image data set for tests of the image classifiers, written as the four MNIST-style IDX
// files the loaders read: two classes of 12x12 images that a convolution separates at once and
// global average pooling keeps apart (class 0 vertical stripes, class 1 horizontal ones, period 4,
// each with deterministic speckle). A top-half / bottom-half split is not such a set: after the
// pooling only the padding tells positions apart, and training got it right only sometimes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace neuralode::test_support {

inline void put_u32_big_endian(std::ofstream& out, std::uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v >> 24),
                              static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  out.write(reinterpret_cast<const char*>(b), 4);
}

// Writes dir/<stem>-images-idx3-ubyte and dir/<stem>-labels-idx1-ubyte with `count` images
// (labels alternate 0, 1); stem is "train" or "t10k".
inline void write_stripe_split(const std::filesystem::path& dir, const std::string& stem,
                               std::uint32_t count) {
  std::ofstream img(dir / (stem + "-images-idx3-ubyte"), std::ios::binary);
  std::ofstream lab(dir / (stem + "-labels-idx1-ubyte"), std::ios::binary);
  put_u32_big_endian(img, 0x803), put_u32_big_endian(img, count);
  put_u32_big_endian(img, 12), put_u32_big_endian(img, 12);
  put_u32_big_endian(lab, 0x801), put_u32_big_endian(lab, count);
  std::uint32_t state = 12345;
  for (std::uint32_t i = 0; i < count; ++i) {
    const unsigned char label = static_cast<unsigned char>(i % 2);
    lab.put(static_cast<char>(label));
    for (int r = 0; r < 12; ++r)
      for (int c = 0; c < 12; ++c) {
        state = state * 1664525u + 1013904223u;
        const bool bright = label == 0 ? (c / 2) % 2 == 0 : (r / 2) % 2 == 0;  // period 4
        img.put(static_cast<char>((bright ? 160 : 20) + (state >> 27)));
      }
  }
}

}  // namespace neuralode::test_support
