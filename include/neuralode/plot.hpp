// neuralode's figures: a small plotting library (panels of lines, point clouds and arrow fields,
// written as PNG or SVG through cairo) used by the training programs and the benchmarks.
#pragma once

#include "neuralode/plot/figure.hpp"
