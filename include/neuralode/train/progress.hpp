// Progress: what a training loop shows while it runs. On a terminal, one line redrawn in place
// (iteration/total, loss, NFE forward/backward, iterations per second, ETA); elsewhere (a log
// file, CI) plain lines every so many iterations or seconds, so logs stay short and readable.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace neuralode::train {

struct ProgressOptions {
  // ---- plain lines (not a terminal) ----
  // A line every this many iterations; 100 keeps a 10k-iteration log at 100 lines.
  std::int64_t print_every = 100;
  // ... or when this many seconds passed since the last line, whichever comes first, so slow runs
  // still show they are alive.
  double print_every_seconds = 10;

  // ---- terminal ----
  // Redraws at most this often; redrawing every iteration of a fast loop costs more than it shows.
  double redraw_seconds = 0.1;

  // Iteration counting starts here: a run resumed at iteration 500 sets 500 so it/s and the ETA
  // count only the iterations this process did.
  std::int64_t start_iteration = 0;
  // Seconds on a monotonic clock; tests replace it with a fake. Empty = std::chrono::steady_clock.
  std::function<double()> clock;

  void validate() const;
};

class Progress {
 public:
  // total_iterations > 0. is_terminal chooses the display (see is_terminal() below). The stream
  // must outlive the Progress. Throws InvalidArgument for a bad total or options.
  Progress(std::int64_t total_iterations, std::ostream& out, bool is_terminal,
           ProgressOptions options = {});
  // On a terminal, ends a line left open by update() without finish().
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // After iteration `iteration` (1-based: the count done so far, at most the total) with that
  // iteration's loss and function evaluations in its forward and backward passes.
  void update(std::int64_t iteration, double loss, std::int64_t nfe_forward,
              std::int64_t nfe_backward);
  // Shows the last state if it is not shown yet, then one summary line
  // ("done: 1000 iterations in 81.2 s (12.3 it/s)"). Idempotent.
  void finish();

  // The status text without \r or newline, as both modes print it:
  // "iter 120/1000  loss 0.123457  nfe 26/32  12.3 it/s  eta 1m11s".
  std::string status_line() const;

 private:
  double now() const;
  void draw();

  std::int64_t total_;
  std::ostream& out_;
  bool is_terminal_;
  ProgressOptions options_;
  double start_seconds_;
  double last_shown_seconds_;
  std::int64_t last_shown_iteration_;
  std::int64_t iteration_;
  double loss_ = 0;
  std::int64_t nfe_forward_ = 0, nfe_backward_ = 0;
  bool shown_ = true;  // the current state has been printed
  std::size_t last_width_ = 0;
  bool line_open_ = false;  // terminal: a \r line without its newline yet
  bool finished_ = false;
};

// Whether out is std::cout, std::cerr or std::clog and that file descriptor is a terminal.
bool is_terminal(const std::ostream& out);

}  // namespace neuralode::train
