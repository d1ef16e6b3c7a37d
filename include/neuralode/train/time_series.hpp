// Irregularly sampled time series (issue 20: latent ODEs, ODE-RNN). A series is observed at its own
// times, possibly with some value columns missing; a batch of series is laid out over the sorted
// union of its members' times, with a mask saying which entries each sample really observed
// (Rubanova et al. 2019's batching). The layout matches ode::Solution's (one row per output time,
// batch*dim columns, sample b in columns [b*dim, (b+1)*dim)), so a decoder solved over
// IrregularBatch::times gives predictions the loss compares entry by entry, and the rows of
// dL/dy(t_i) a gradient method takes have the same shape.
#pragma once

#include <cstdint>
#include <vector>

#include "neuralode/types.hpp"

namespace neuralode::train {

// One series: strictly increasing times, values num_times x dim, mask of the same shape with
// entries 0 (missing) or 1 (observed). An empty mask means every entry was observed.
template <class Scalar>
struct TimeSeries {
  std::vector<Scalar> times;
  Matrix<Scalar> values;
  Matrix<Scalar> mask;
};

// A batch of series over the sorted union of their times.
template <class Scalar>
struct IrregularBatch {
  std::vector<Scalar> times;  // the union, strictly increasing (T entries)
  Index batch = 0;            // samples
  Index dim = 0;              // value columns per sample
  // T x (batch*dim). Entries whose mask is 0 hold arbitrary values: nothing computed from a batch
  // may depend on them (tests change them and compare bit for bit).
  Matrix<Scalar> values;
  Matrix<Scalar> mask;  // T x (batch*dim), 0 or 1
};

// What a time-series model trains and is evaluated on: the observations it sees (the encoder's
// input and the reconstruction target) and the points it must predict (for the paper's
// extrapolation metric, the 100 grid points after the observed window; for interpolation, held-out
// points inside it). `predict` may be empty (batch == 0) during training.
template <class Scalar>
struct SeriesBatch {
  IrregularBatch<Scalar> observed;
  IrregularBatch<Scalar> predict;
  // Seed of the model's random draws for this batch (the reparameterised posterior samples), set
  // by the data source from the run's seed and the iteration, so that a resumed run draws the same
  // noise as an uninterrupted one.
  std::uint64_t noise_seed = 0;
};

}  // namespace neuralode::train
