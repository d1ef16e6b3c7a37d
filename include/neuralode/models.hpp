// Everything in neuralode::models: the ODE block and the image classifiers built on it.
#pragma once

#include "neuralode/models/cross_entropy.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/models/ode_block.hpp"
