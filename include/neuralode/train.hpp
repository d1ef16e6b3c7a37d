// neuralode's training stack: optimizers on flat parameter vectors, learning-rate schedules,
// gradient clipping, safetensors checkpoints, metrics logs, progress display, image data and run
// directories. Figures are neuralode/plot.hpp; the training programs neuralode/apps.hpp.
#pragma once

#include "neuralode/train/checkpoint.hpp"
#include "neuralode/train/clip.hpp"
#include "neuralode/train/image_data.hpp"
#include "neuralode/train/lr_schedule.hpp"
#include "neuralode/train/metrics_log.hpp"
#include "neuralode/train/optimizer.hpp"
#include "neuralode/train/process_memory.hpp"
#include "neuralode/train/progress.hpp"
#include "neuralode/train/run_directory.hpp"
#include "neuralode/train/stop_signal.hpp"
#include "neuralode/train/trainer.hpp"
