// Ctrl-C and `kill` during a long run: instead of dying with the work since the last checkpoint
// lost, a training loop finishes its current step, writes a checkpoint and stops.
//
//   train::StopSignal stop;            // SIGINT and SIGTERM now set a flag instead of killing
//   for (...) {
//     step();
//     if (stop.requested()) { write_checkpoint(); throw stop.interrupted("iteration 17", path); }
//   }                                  // the old handlers come back when `stop` goes out of scope
//
// A second signal while the first is being handled kills the process at once (the default action),
// so a run stuck in a long step can still be stopped.
#pragma once

#include <filesystem>
#include <string>

#include "neuralode/error.hpp"

namespace neuralode::train {

class StopSignal {
 public:
  // Installs the handlers (nesting is allowed: the innermost one is active). A signal whose
  // disposition is SIG_IGN (a background job of a script, nohup) is left ignored.
  StopSignal();
  ~StopSignal();  // restores the handlers that were installed before
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // True once SIGINT or SIGTERM has arrived since construction. Cheap: one relaxed atomic load.
  bool requested() const;
  // The signal that arrived (SIGINT or SIGTERM), 0 if none.
  int signal_number() const;
  // The exception to throw after the checkpoint is written:
  //   "<where>: stopped by SIGINT; checkpoint written to '<checkpoint>'; continue with --resume"
  Interrupted interrupted(const std::string& where, const std::filesystem::path& checkpoint) const;

 private:
  struct Saved;
  Saved* saved_;
};

}  // namespace neuralode::train
