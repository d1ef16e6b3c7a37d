// Training the image classifiers of Chen et al.'s Table 1 (ODE-Net, RK-Net, ResNet) on MNIST-style
// data, as torchdiffeq's examples/odenet_mnist.py does: SGD with momentum 0.9, learning rate 0.1
// (scaled by batch / 128) divided by 10 at 60, 100 and 140 of 160 epochs, random-crop
// augmentation. `neuralode train odenet`, `neuralode bench odenet` and `neuralode table odenet`
// run these; so can a C++ program.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "neuralode/grad/grad_options.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/types.hpp"

namespace neuralode::apps {

struct OdeNetOptions {
  // ---- Model (models::ImageClassifierOptions)
  std::string model = "odenet";  // a name of models::image_model_names()
  // The ODE block's solver (odenet, rknet), validated once by validate() in float, the type the
  // block computes in. Defaults: models::ImageClassifierOptions::default_solve(): dopri5 at
  // rtol = atol = 1e-3 (torchdiffeq's --tol) with torchdiffeq's I controller, at most 10^5 steps
  // per solve (a valid run takes 3-30; a diverging one is stopped there with the iteration).
  ode::SolveOptions solve = models::ImageClassifierOptions::default_solve();
  // The block's gradient method; an empty method: adjoint for odenet, direct for rknet.
  grad::GradOptions grad = {.method = ""};
  // ---- Data
  // "fashion-mnist" (Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist) or a
  // directory holding the four MNIST-style IDX files (so real MNIST works too).
  std::string data = "fashion-mnist";
  bool augment = true;   // random crop 28 with padding 4 on training images
  Index train_size = 0;  // use the first N training images; 0 = all
  Index test_size = 0;   // evaluate on the first N test images; 0 = all
  // ---- Optimisation (odenet_mnist's defaults)
  // The original trains 160 epochs; that is days on a CPU, so the default is a short run. The
  // learning-rate milestones scale with it (see lr_milestones()).
  int epochs = 10;
  Index batch_size = 128;
  double lr = 0.1;  // scaled by batch_size / 128, as odenet_mnist does
  double momentum = 0.9;
  std::uint64_t seed = 0;  // initialisation, shuffling and crops
  // ---- Run
  int threads = 1;
  std::filesystem::path out = "runs/odenet";
  // Continue from out/checkpoint.safetensors (written after every epoch, and inside an epoch when
  // a signal stopped the run). The options that define the run (model, the fields of solve but
  // max_num_steps, those of grad, data, augment, train_size, test_size, epochs, batch_size, lr,
  // momentum, seed) must equal those the checkpoint records, or InvalidArgument names the option
  // with both values: a changed one would make the rest a different run while metrics.jsonl
  // describes one (a checkpoint from before an option existed counts as having its default).
  // threads and solve.max_num_steps may change.
  bool resume = false;
  // Stop after this epoch (0 = run to `epochs`), e.g. to fit a time-limited job; a later run with
  // the same options and `resume` continues exactly where this one stopped.
  int stop_after = 0;
  bool quiet = false;
  bool figures = true;  // training.png at the end

  // Throws InvalidArgument naming the flag and the accepted values: counts >= 1 (sizes >= 0),
  // a finite lr > 0 (also after scaling), rtol and atol >= 1.2e-7 (the block computes in float),
  // threads in [1, 1024], known words, solve.validate() and grad.validate(), and for resnet (no
  // ODE block) no grad but direct and every solver option at its default (it would be ignored).
  void validate() const;
  // The directory the data come from ("fashion-mnist" resolved).
  std::filesystem::path data_dir() const;
  // The iterations at which the learning rate drops tenfold: odenet_mnist's epochs 60, 100, 140
  // of 160 scaled to `epochs` (fractions 0.375, 0.625, 0.875 of the run), in iterations.
  std::vector<std::int64_t> lr_milestones(std::int64_t batches_per_epoch) const;
};

struct OdeNetEpoch {
  int epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
  double nfe_forward = 0, nfe_backward = 0;  // mean per training iteration
  double seconds = 0;                        // training time of the epoch (no evaluation)
  std::size_t peak_rss_bytes = 0;
};

struct OdeNetResult {
  std::vector<OdeNetEpoch> epochs;  // those this process ran
  Index num_params = 0;
  std::filesystem::path metrics, checkpoint, training_figure;
};

// Trains, writing into options.out: config.json, metrics.jsonl (one line per epoch),
// checkpoint.safetensors (every epoch) and training.png. Progress goes to `log`.
// Before any work: validate(), prepare_run_directory(out, resume) (an existing run is not
// overwritten without resume), and the data are read (only the train_size / test_size images
// asked for; empty sets and sizes larger than the data are refused) and a training step's memory
// predicted against what the machine has (InvalidArgument with both numbers).
// During the run: a non-finite loss, gradient or parameter (the step is not applied) or test loss
// throws Error naming the iteration and epoch, the learning rate and the checkpoint kept (the last
// good one; nothing is written for the failed epoch); a SolveError of the ODE block (step size
// underflow, too many steps) is rethrown with the iteration and the hint that training may have
// diverged. SIGINT/SIGTERM (train::StopSignal): the current iteration finishes, a checkpoint is
// written (inside the epoch if need be) and Interrupted is thrown; resume continues from there
// with the numbers of an uninterrupted run.
OdeNetResult train_odenet(const OdeNetOptions& options, std::ostream& log);

// `neuralode bench odenet`: seconds per training iteration at the given batch size after warm-up
// iterations, on the first batches of the training data (only those are read), or on random
// images when run.data is "random", or when run.data is the default "fashion-mnist", it is not
// installed and allow_random_data: then the peak RSS holds no dataset and result.data says
// "random". Any other data directory must be readable (InvalidArgument/IoError otherwise) and
// hold at least batch_size training images. A diverging step throws as in train_odenet.
struct OdeNetBenchOptions {
  OdeNetOptions run;  // model, method, tol, grad, data, batch_size, threads, seed
  int iters = 5;      // >= 1
  int warmup = 1;     // >= 0
  // Random pixels when the default data set (fashion-mnist) is not installed. The CLI sets it
  // only when --data was not given.
  bool allow_random_data = true;
};
struct OdeNetBenchResult {
  std::string model, grad;
  int iters = 0;
  Index batch_size = 0;
  int threads = 1;
  double seconds_per_iter = 0;
  double nfe_forward = 0, nfe_backward = 0;
  std::size_t peak_rss_bytes = 0;
  std::string data;  // the directory used, or "random"
};
OdeNetBenchResult bench_odenet(const OdeNetBenchOptions& options);

// The paper-style comparison of finished runs (directories written by train_odenet) as a Markdown
// table: model, gradient method, epochs, test error, parameters, peak memory, time per epoch, NFE.
// IoError naming the directory when a run has no config.json or no epoch in metrics.jsonl, and
// naming the file and the key when config.json is not a JSON object or a value has the wrong
// type, or when the last line of metrics.jsonl lacks a number the table shows.
std::string odenet_table(const std::vector<std::filesystem::path>& run_dirs);

}  // namespace neuralode::apps
