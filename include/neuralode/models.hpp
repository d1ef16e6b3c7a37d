// Everything in neuralode::models: the Model interface every trainable model implements, the ODE
// block, and the image classifiers built on it (with their registry and Model wrapper).
#pragma once

#include "neuralode/models/cross_entropy.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/models/image_classifier_model.hpp"
#include "neuralode/models/image_model_registry.hpp"
#include "neuralode/models/model.hpp"
#include "neuralode/models/ode_block.hpp"
