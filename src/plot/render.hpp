// Encoding a figure: the one entry point from Figure::save (figure.cpp) into the cairo renderer.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "neuralode/plot/figure.hpp"

namespace neuralode::detail {

enum class Format { png, svg };

// The encoded file in memory; throws IoError naming `path` when cairo fails.
std::string encode(const plot::FigureOptions& options, const std::vector<plot::Axes>& panels,
                   Format format, const std::filesystem::path& path);

}  // namespace neuralode::detail
