// neuralode's neural vector fields f_theta(x, t): layers with forward, reverse and tangent passes,
// their composition into a field with one flat parameter vector, initialisation and gradcheck.
#pragma once

#include "neuralode/error.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/concat_conv2d.hpp"
#include "neuralode/nn/concat_linear.hpp"
#include "neuralode/nn/concat_squash_linear.hpp"
#include "neuralode/nn/conv2d.hpp"
#include "neuralode/nn/cube.hpp"
#include "neuralode/nn/flatten.hpp"
#include "neuralode/nn/gradcheck.hpp"
#include "neuralode/nn/group_norm.hpp"
#include "neuralode/nn/hyper_linear.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/layer.hpp"
#include "neuralode/nn/layer_field.hpp"
#include "neuralode/nn/layer_registry.hpp"
#include "neuralode/nn/linear.hpp"
#include "neuralode/nn/piecewise_constant.hpp"
#include "neuralode/nn/sequential.hpp"
#include "neuralode/nn/threads.hpp"
#include "neuralode/nn/vector_field.hpp"
