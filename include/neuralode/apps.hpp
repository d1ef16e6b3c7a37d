// neuralode's training programs as library calls: the spiral demo and the image classifiers
// (ODE-Net, RK-Net, ResNet), which the `neuralode` command runs.
#pragma once

#include "neuralode/apps/odenet.hpp"
#include "neuralode/apps/spiral.hpp"
