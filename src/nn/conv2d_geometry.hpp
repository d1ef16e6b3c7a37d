// The shape arithmetic of a 2-D convolution (NCHW, square kernel, equal stride and padding on both
// axes), shared by the oneDNN and reference kernels and by the Conv2d/ConcatConv2d layers.
#pragma once

#include "neuralode/types.hpp"

namespace neuralode::nn::detail {

struct ConvGeometry {
  Index in_channels = 0;  // channels the kernel reads (without ConcatConv2d's time channel)
  Index out_channels = 0;
  Index kernel = 0;  // kernel height = width
  Index stride = 1;
  Index padding = 0;            // zero padding on each side
  Index height = 0, width = 0;  // input image

  // PyTorch's output size: floor((H + 2p - k) / s) + 1.
  Index out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
  Index out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
  Index in_features() const { return in_channels * height * width; }
  Index out_features() const { return out_channels * out_height() * out_width(); }
  Index out_pixels() const { return out_height() * out_width(); }
  // Columns of the im2col matrix = entries of one output channel's filter.
  Index patch_size() const { return in_channels * kernel * kernel; }
  // Multiply-adds of one sample's forward pass, counting padded taps (the usual FLOP convention:
  // 2 * this = FLOPs).
  double macs_per_sample() const {
    return static_cast<double>(out_features()) * static_cast<double>(patch_size());
  }
};

}  // namespace neuralode::nn::detail
