// Progress: the redrawn terminal line and the plain periodic lines.
#include "neuralode/train/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::train {

using neuralode::detail::cat;
using neuralode::detail::num;

namespace {

// "12s", "3m05s", "2h03m"; "?" before a rate is known.
std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void ProgressOptions::validate() const {
  if (print_every < 1)
    throw InvalidArgument(cat("ProgressOptions: print_every = ", print_every, " must be >= 1"));
  if (!(print_every_seconds > 0))
    throw InvalidArgument(
        cat("ProgressOptions: print_every_seconds = ", num(print_every_seconds), " must be > 0"));
  if (!(redraw_seconds >= 0))
    throw InvalidArgument(
        cat("ProgressOptions: redraw_seconds = ", num(redraw_seconds), " must be >= 0"));
  if (start_iteration < 0)
    throw InvalidArgument(
        cat("ProgressOptions: start_iteration = ", start_iteration, " must be >= 0"));
}

Progress::Progress(std::int64_t total_iterations, std::ostream& out, bool is_terminal,
                   ProgressOptions options)
    : total_(total_iterations), out_(out), is_terminal_(is_terminal), options_(std::move(options)) {
  if (total_iterations < 1)
    throw InvalidArgument(cat("Progress: total_iterations = ", total_iterations, " must be >= 1"));
  options_.validate();
  if (options_.start_iteration > total_)
    throw InvalidArgument(cat("Progress: start_iteration = ", options_.start_iteration,
                              " is past total_iterations = ", total_));
  start_seconds_ = last_shown_seconds_ = now();
  iteration_ = last_shown_iteration_ = options_.start_iteration;
}

Progress::~Progress() {
  if (line_open_) out_ << '\n' << std::flush;
}

double Progress::now() const {
  return options_.clock ? options_.clock() : steady_seconds();
}

std::string Progress::status_line() const {
  const double elapsed = now() - start_seconds_;
  const auto done = iteration_ - options_.start_iteration;
  const double rate = elapsed > 0 && done > 0 ? double(done) / elapsed : NAN;
  char rate_text[32];
  if (std::isnan(rate))
    std::snprintf(rate_text, sizeof rate_text, "? it/s");
  else
    std::snprintf(rate_text, sizeof rate_text, "%.3g it/s", rate);
  const double eta = std::isnan(rate) ? NAN : double(total_ - iteration_) / rate;
  return cat("iter ", iteration_, "/", total_, "  loss ", num(loss_), "  nfe ", nfe_forward_, "/",
             nfe_backward_, "  ", rate_text, "  eta ",
             iteration_ == total_ ? "0s" : duration_text(eta));
}

void Progress::draw() {
  const std::string line = status_line();
  if (is_terminal_) {
    // Pad with spaces over what the longer previous line left on screen.
    out_ << '\r' << line;
    if (line.size() < last_width_) out_ << std::string(last_width_ - line.size(), ' ');
    last_width_ = line.size();
    line_open_ = true;
  } else {
    out_ << line << '\n';
  }
  out_.flush();
  last_shown_seconds_ = now();
  last_shown_iteration_ = iteration_;
  shown_ = true;
}

void Progress::update(std::int64_t iteration, double loss, std::int64_t nfe_forward,
                      std::int64_t nfe_backward) {
  if (iteration < iteration_ || iteration > total_)
    throw InvalidArgument(cat("Progress::update: iteration ", iteration, " must be in [",
                              iteration_, ", ", total_, "] (not decreasing, at most the total)"));
  iteration_ = iteration;
  loss_ = loss;
  nfe_forward_ = nfe_forward;
  nfe_backward_ = nfe_backward;
  shown_ = false;
  const double since = now() - last_shown_seconds_;
  const bool last = iteration == total_;
  if (is_terminal_) {
    if (last || since >= options_.redraw_seconds) draw();
  } else if (last || iteration - last_shown_iteration_ >= options_.print_every ||
             since >= options_.print_every_seconds) {
    draw();
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!shown_) draw();
  if (line_open_) {
    out_ << '\n';
    line_open_ = false;
  }
  const double elapsed = now() - start_seconds_;
  const auto done = iteration_ - options_.start_iteration;
  char rate[32] = "";
  if (elapsed > 0) std::snprintf(rate, sizeof rate, " (%.3g it/s)", double(done) / elapsed);
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f", elapsed);
  out_ << "done: " << done << " iterations in " << secs << " s" << rate << '\n' << std::flush;
}

bool is_terminal(const std::ostream& out) {
  if (&out == &std::cout) return ::isatty(STDOUT_FILENO) == 1;
  if (&out == &std::cerr || &out == &std::clog) return ::isatty(STDERR_FILENO) == 1;
  return false;
}

}  // namespace neuralode::train
