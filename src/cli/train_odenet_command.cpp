// `neuralode train odenet`: ODE-Net, RK-Net or ResNet on MNIST-style images (apps::train_odenet).
// Numeric flags are range-checked as they are parsed (cli/flags.hpp), the solver and gradient
// flags are the shared ones (cli/solver_flags.hpp); the combinations are checked by
// OdeNetOptions::validate before any work, with messages that name the flag and list the accepted
// words.
#include <cmath>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/solver_flags.hpp"
#include "common/text.hpp"
#include "neuralode/apps/odenet.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/ode.hpp"

namespace neuralode::cli {

// Flags shared by `train odenet` and `bench odenet`; data_help describes --data for the command.
void add_odenet_flags(CLI::App& cmd, apps::OdeNetOptions& o, const std::string& data_help) {
  cmd.add_option("--model", o.model, "Model: " + models::image_model_names())
      ->capture_default_str();
  cmd.add_option("--data", o.data, data_help)->capture_default_str();
  cmd.add_option("--batch-size", o.batch_size, "Images per step")
      ->capture_default_str()
      ->check(integer_at_least(1, std::int64_t{1} << 31));
  add_solve_flags(cmd, o.solve, "Solver of the ODE block (odenet, rknet)");
  // torchdiffeq's --tol: rtol = atol of the ODE block. --rtol and --atol set them apart.
  CLI::Option* tol = cmd.add_option_function<double>(
                            "--tol", [&o](double v) { o.solve.rtol = o.solve.atol = v; },
                            "rtol = atol of the ODE block (odenet, rknet); >= 1.2e-7, float32's "
                            "epsilon")
                         ->check(positive_real())
                         ->default_str(detail::num(o.solve.rtol));
  tol->excludes(cmd.get_option("--rtol"));
  tol->excludes(cmd.get_option("--atol"));
  add_grad_flags(cmd, o.grad,
                 "Gradient method of the ODE block: " + grad::gradient_method_names() +
                     " (default: adjoint for odenet, direct for rknet; resnet accepts only "
                     "direct)");
  cmd.add_option("--threads", o.threads, "Threads for convolutions and matrix products (1-1024)")
      ->capture_default_str()
      ->check(integer_at_least(1, 1024));
  cmd.add_option("--seed", o.seed, "Seed of initialisation, shuffling and crops")
      ->capture_default_str()
      ->check(integer_at_least(0));
}

void add_train_odenet_command(CLI::App& root) {
  auto o = std::make_shared<apps::OdeNetOptions>();
  CLI::App* cmd = train_group(root).add_subcommand(
      "odenet",
      "ODE-Net, RK-Net or ResNet on Fashion-MNIST/MNIST (Chen et al. Table 1, torchdiffeq's "
      "odenet_mnist settings)");
  add_odenet_flags(*cmd, *o,
                   "fashion-mnist (Debian's dataset-fashion-mnist) or a directory with the four "
                   "MNIST-style IDX files");
  cmd->add_option("--epochs", o->epochs,
                  "Epochs (the original: 160); the lr drops 10x at 60/100/140 of 160 of them")
      ->capture_default_str()
      ->check(integer_at_least(1, INT32_MAX));
  cmd->add_option("--lr", o->lr, "SGD learning rate at batch 128 (scaled by batch / 128)")
      ->capture_default_str()
      ->check(positive_real());
  cmd->add_flag(
      "--no-augment", [o](std::int64_t) { o->augment = false; },
      "No random crops (default: crop 28 from the image padded by 4)");
  cmd->add_option("--train-size", o->train_size,
                  "Use the first N training images (0 = all); reads only those")
      ->capture_default_str()
      ->check(integer_at_least(0));
  cmd->add_option("--test-size", o->test_size,
                  "Evaluate on the first N test images (0 = all); reads only those")
      ->capture_default_str()
      ->check(integer_at_least(0));
  cmd->add_option("--out", o->out,
                  "Output directory; a new run refuses one that holds a run (use --resume)")
      ->capture_default_str();
  cmd->add_flag("--resume", o->resume,
                "Continue from OUT/checkpoint.safetensors; the options that define the run "
                "(model, method, tol, grad, data, augment, sizes, epochs, batch size, lr, seed) "
                "must be those recorded there");
  cmd->add_option("--stop-after", o->stop_after,
                  "Stop after this epoch (0 = never); continue later with --resume")
      ->capture_default_str()
      ->check(integer_at_least(0, INT32_MAX));
  cmd->add_flag("--quiet", o->quiet, "No progress output");
  cmd->footer(
      "Models (--model):\n" + models::image_model_help() +
      "\nCtrl-C (SIGINT) or SIGTERM: the current iteration finishes, a checkpoint is written and "
      "the program exits with 128 + the signal; --resume continues exactly there. A diverging "
      "run (NaN/Inf loss, gradient or parameters) stops with exit 2 and keeps its last good "
      "checkpoint.");
  cmd->callback([o] {
    const apps::OdeNetResult r = apps::train_odenet(*o, std::cout);
    if (!r.epochs.empty() && std::isfinite(r.epochs.back().test_accuracy)) {
      const auto& e = r.epochs.back();
      std::cout << "test accuracy " << 100 * e.test_accuracy << " % after epoch " << e.epoch << " ("
                << r.num_params << " parameters)\n";
    }
    std::cout << "metrics:    " << r.metrics.string() << "\n"
              << "checkpoint: " << r.checkpoint.string() << "\n";
    if (!r.training_figure.empty())
      std::cout << "figure:     " << r.training_figure.string() << "\n";
  });
}

}  // namespace neuralode::cli
