// Time<Scalar>: the time argument of a layer call, either one t shared by every row of the batch
// (the common case: a solver's stage, an evaluation) or one t per row (samples at different times,
// as per-sample stepping and irregularly sampled series need).
#pragma once

#include <cassert>
#include <span>

#include "neuralode/types.hpp"

namespace neuralode::nn {

// A 16-byte value passed by value (two registers); implicitly constructible from a Scalar, so
// `layer.forward(0.5, x, y, ctx)` reads as before, and from a span of per-row times, which the
// caller keeps alive for the call (and until the matching backward, which is given t again).
//
// Gradients with respect to time follow the time's form: with a shared t, a layer adds
// d<y_bar, y>/dt into *t_bar (one value); with per-row times it adds row r's derivative into
// t_bar[r] (batch values).
template <class Scalar>
class Time {
 public:
  // Every row at t.
  Time(Scalar t) : t_(t) {}  // NOLINT(google-explicit-constructor): the common case
  // Row r at rows[r]; rows.size() must be the batch of the call (asserted by the layers).
  Time(std::span<const Scalar> rows) : rows_(rows.data()) {}  // NOLINT(google-explicit-constructor)

  bool per_row() const { return rows_ != nullptr; }
  // The time of row r.
  Scalar at(Index r) const { return rows_ ? rows_[r] : t_; }
  // The shared time (only when !per_row()).
  Scalar value() const {
    assert(!per_row());
    return t_;
  }
  // Per-row times (only when per_row()).
  const Scalar* rows() const { return rows_; }
  // The time of the rows from r on (a row block's view of a per-row time; a shared t is itself).
  Time from_row(Index r) const { return rows_ ? Time(rows_ + r, 0) : *this; }

 private:
  Time(const Scalar* rows, int) : rows_(rows) {}
  Scalar t_ = 0;
  const Scalar* rows_ = nullptr;
};

// t itself, or its shared value when every per-row time of the batch is equal. Layers where time
// enters pass their t through it, so that per-row times with every row at one t take the
// shared-time arithmetic, bit for bit (an O(batch) check). Not for a reverse pass whose t_bar is
// wanted: per-row times want t_bar per row.
template <class Scalar>
Time<Scalar> collapsed(Time<Scalar> t, Index batch) {
  if (!t.per_row() || batch == 0) return t;
  for (Index r = 1; r < batch; ++r) {
    if (!(t.at(r) == t.at(0))) return t;
  }
  return Time<Scalar>(t.at(0));
}

// Calls fn(t, r0, r1) for each maximal run of consecutive rows [r0, r1) of a batch sharing one
// time (the whole batch at once for a shared t). The way a layer whose parameters depend on t as
// a whole (a hypernetwork, piecewise-constant weights) serves per-row times: rows at equal times
// run together through the shared-time code, so a batch at one t costs one call.
template <class Scalar, class Fn>
void for_each_time_run(Time<Scalar> t, Index batch, Fn&& fn) {
  if (!t.per_row()) {
    if (batch > 0) fn(t.value(), Index(0), batch);
    return;
  }
  Index r0 = 0;
  while (r0 < batch) {
    Index r1 = r0 + 1;
    while (r1 < batch && t.at(r1) == t.at(r0)) ++r1;
    fn(t.at(r0), r0, r1);
    r0 = r1;
  }
}

}  // namespace neuralode::nn
