// `neuralode train odenet`: ODE-Net, RK-Net or ResNet on MNIST-style images (train::train_odenet).
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "neuralode/ode.hpp"
#include "neuralode/train/odenet.hpp"

namespace neuralode::cli {

// Flags shared by `train odenet` and `bench odenet`.
void add_odenet_flags(CLI::App& cmd, train::OdeNetOptions& o) {
  cmd.add_option("--model", o.model, "Model: " + models::image_model_names())
      ->capture_default_str();
  cmd.add_option("--data", o.data,
                 "fashion-mnist (Debian's dataset-fashion-mnist) or a directory with the four "
                 "MNIST-style IDX files")
      ->capture_default_str();
  cmd.add_option("--batch-size", o.batch_size, "Images per step")->capture_default_str();
  cmd.add_option("--method", o.method, "Solver of the ODE block: " + ode::method_names())
      ->capture_default_str();
  cmd.add_option("--tol", o.tol, "rtol = atol of the ODE block")->capture_default_str();
  cmd.add_option("--grad", o.grad,
                 "Gradient method: " + grad::gradient_method_names() +
                     " (default: adjoint for odenet, direct for rknet)");
  cmd.add_option("--threads", o.threads, "Threads for convolutions and matrix products")
      ->capture_default_str();
  cmd.add_option("--seed", o.seed, "Seed of initialisation, shuffling and crops")
      ->capture_default_str();
}

void add_train_odenet_command(CLI::App& root) {
  auto o = std::make_shared<train::OdeNetOptions>();
  CLI::App* cmd = train_group(root).add_subcommand(
      "odenet",
      "ODE-Net, RK-Net or ResNet on Fashion-MNIST/MNIST (Chen et al. Table 1, torchdiffeq's "
      "odenet_mnist settings)");
  add_odenet_flags(*cmd, *o);
  cmd->add_option("--epochs", o->epochs,
                  "Epochs (the original: 160); the lr drops 10x at 60/100/140 of 160 of them")
      ->capture_default_str();
  cmd->add_option("--lr", o->lr, "SGD learning rate at batch 128 (scaled by batch / 128)")
      ->capture_default_str();
  cmd->add_flag(
      "--no-augment", [o](std::int64_t) { o->augment = false; },
      "No random crops (default: crop 28 from the image padded by 4)");
  cmd->add_option("--train-size", o->train_size, "Use the first N training images (0 = all)")
      ->capture_default_str();
  cmd->add_option("--test-size", o->test_size, "Evaluate on the first N test images (0 = all)")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory")->capture_default_str();
  cmd->add_flag("--resume", o->resume, "Continue from OUT/checkpoint.safetensors");
  cmd->add_option("--stop-after", o->stop_after,
                  "Stop after this epoch (0 = never); continue later with --resume")
      ->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "No progress output");
  cmd->callback([o] {
    const train::OdeNetResult r = train::train_odenet(*o, std::cout);
    if (!r.epochs.empty()) {
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
