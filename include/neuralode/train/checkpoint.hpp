// Checkpoints on disk in the safetensors format (huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header, then raw little-endian tensors, so Python's safetensors or plain
// numpy reads them. Helpers store what resuming a run needs: parameters by their view names,
// optimizer state, iteration and RNG state; the run's configuration goes in as JSON text.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "neuralode/nn/layer.hpp"
#include "neuralode/train/optimizer.hpp"

namespace neuralode::train {

// Element types a checkpoint holds, spelled as safetensors spells them.
enum class DType { F32, F64, I64, U8 };
std::string_view to_string(DType d);
DType parse_dtype(std::string_view word);  // "F32" | "F64" | "I64" | "U8"
std::size_t dtype_size_bytes(DType d);

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::F32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::F64;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::I64;
  else {
    static_assert(std::is_same_v<T, std::uint8_t>,
                  "checkpoint tensors are float, double, int64, uint8");
    return DType::U8;
  }
}

// One named array. data holds num_elements() * dtype_size_bytes(dtype) bytes, row-major and
// little-endian whatever the machine's byte order; shape {} is a scalar (one element).
struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;

  std::int64_t num_elements() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }

  // A tensor holding a copy of values (values.size() must equal the product of shape; throws
  // InvalidArgument otherwise).
  template <class T>
  static Tensor of(std::string name, std::vector<std::int64_t> shape, std::span<const T> values);
  // The values as T; T must match dtype exactly (throws InvalidArgument naming both otherwise).
  template <class T>
  std::vector<T> values() const;
};

// A checkpoint in memory: tensors in file order, and the string-to-string "__metadata__" map.
struct Checkpoint {
  std::vector<Tensor> tensors;
  std::map<std::string, std::string> metadata;
  // Where it was read from, for error messages; empty for one built in memory.
  std::string source;

  const Tensor* find(std::string_view name) const;  // nullptr when absent
  const Tensor& at(std::string_view name) const;    // IoError naming the file when absent
  // Appends, or replaces the tensor of the same name in place.
  void put(Tensor t);
};

// Writes path atomically: the bytes go to a temporary file beside it (".<name>.<pid>.<n>.tmp",
// see common/atomic_file.hpp), are flushed to disk (fsync), and
// the file is renamed over path; a reader sees the old checkpoint or the new one, never a part.
// On any failure the temporary file is removed, path is left as it was, and IoError names the
// file, the step and the system's reason. InvalidArgument (before anything is written) for
// duplicate or empty tensor names, "__metadata__" as a name, or data whose size does not match
// shape and dtype. The header is padded with spaces to a multiple of 8 bytes so the data starts
// 8-aligned; tensors are stored contiguously in the given order.
void write_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);
void write_checkpoint(const std::filesystem::path& path, const std::vector<Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata);

// Reads and validates a whole file. IoError naming the file and the problem when it cannot be
// opened, is a directory, is shorter than 8 bytes, announces a header longer than the file or
// than 100 MB (the limit safetensors itself applies), has malformed JSON or entries, a dtype
// outside F32, F64, I64, U8, data_offsets out of range or overlapping, or a shape whose byte
// count differs from its data_offsets span.
Checkpoint read_checkpoint(const std::filesystem::path& path);

// ---- what a training run stores -----------------------------------------------------------------
// Tensor names: "params.<view name>" for parameters, "optim.<buffer>" for optimizer buffers
// ("optim.exp_avg"). Metadata keys below; values are strings as safetensors requires.
inline constexpr std::string_view kParamsPrefix = "params.";
inline constexpr std::string_view kOptimPrefix = "optim.";
inline constexpr const char* kIterationKey = "iteration";  // decimal integer
inline constexpr const char* kConfigKey = "config";        // the run's configuration, JSON text
inline constexpr const char* kRngStateKey = "rng_state";   // std::mt19937_64's text form
inline constexpr const char* kOptimizerKey = "optimizer";  // Optimizer::name()
inline constexpr const char* kOptimizerStepsKey = "optimizer.num_steps";
inline constexpr const char* kOptimizerLrKey = "optimizer.learning_rate";  // %.17g: exact

// Each view becomes one tensor "params.<name>" of its shape, dtype of Scalar, holding
// params[offset, offset + size). InvalidArgument if a view reaches past params.
template <class Scalar>
void put_params(Checkpoint& checkpoint, std::span<const nn::ParamView> views,
                std::span<const Scalar> params);
// The inverse: fills params from "params.<name>" for every view (F32 and F64 are converted to
// Scalar; exact when they match). IoError naming the file and the view when a tensor is missing
// or its shape or dtype differs from the view's (usually: a checkpoint of another model
// configuration), and naming the tensor and the index when a value is NaN or infinite (a run
// that diverged before it was saved: resuming it would fail later, far from the cause). Entries
// of params outside every view are left as they are; on an error params may be partly filled.
template <class Scalar>
void get_params(const Checkpoint& checkpoint, std::span<const nn::ParamView> views,
                std::span<Scalar> params);

// Optimizer name, step count and learning rate into metadata; each buffer into "optim.<buffer>"
// (one-dimensional, dtype of Scalar). Replaces the "optim." tensors a previous call put.
template <class Scalar>
void put_optimizer_state(Checkpoint& checkpoint, const OptimizerState<Scalar>& state);
// The inverse. IoError naming the file when the metadata is missing or malformed (a step count
// that is not an integer >= 0, a learning rate that is not a finite number >= 0), a buffer is
// not one-dimensional F32/F64, or a buffer holds NaN or Inf (naming the tensor and the index).
template <class Scalar>
OptimizerState<Scalar> get_optimizer_state(const Checkpoint& checkpoint);

void put_iteration(Checkpoint& checkpoint, std::int64_t iteration);
// IoError naming the file when missing, not a decimal integer, or negative.
std::int64_t get_iteration(const Checkpoint& checkpoint);

// The metadata value under key as a decimal integer (optional sign, digits, nothing else; no
// std::stoi, which throws a bare "stoi" and accepts "12abc"). IoError naming the file, the key,
// the text and the accepted range when it is missing or malformed, or outside [min, max]:
//   "checkpoint 'run/checkpoint.safetensors': metadata 'epoch' = 'one' is not an integer;
//    accepted: an integer in [0, 2]"
std::int64_t get_int_metadata(const Checkpoint& checkpoint, const char* key,
                              std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX);
// The same for a key a checkpoint may lack (written only in some states, or by an older
// version): `fallback` when absent, the checks above when present.
std::int64_t get_int_metadata_or(const Checkpoint& checkpoint, const char* key,
                                 std::int64_t fallback, std::int64_t min = INT64_MIN,
                                 std::int64_t max = INT64_MAX);

// What --resume checks: the options that define a run (the model, the data, the optimizer's
// hyperparameters, the solver) must be those the checkpoint was written with, because the
// resumed run continues the old one and its records must say what was run. config_key is the
// key in the kConfigKey JSON object; flag is how the user sets it ("--lr", or a field name).
struct ResumeKey {
  const char* config_key;
  const char* flag;
  // An option added after the first checkpoints were written: a checkpoint without the key is
  // compared as if it held the value of `defaults_config` (the program's default), so old
  // checkpoints still resume; with false, a missing key is refused as "not a checkpoint of".
  bool may_be_absent = false;
};
// Compares each key of the checkpoint's kConfigKey JSON object with the same key of
// current_config (JSON text of the new run's configuration). IoError naming the file when the
// checkpoint has no config, the config is not a JSON object, or a key is missing from it ("not a
// checkpoint of <program>"); InvalidArgument, for the first key that differs:
//   "<program> --resume: --lr = 0.1 differs from the checkpoint's 0.001 ('<file>'); a resumed run
//    keeps the options it was started with: pass --lr 0.001, or start a new run in another --out"
// Numbers compare by value (20 equals 20.0), strings exactly. defaults_config (JSON text of the
// configuration with the program's default options) supplies the value of a may_be_absent key a
// checkpoint lacks; it must hold every such key.
void require_same_config(const Checkpoint& checkpoint, std::string_view current_config,
                         std::span<const ResumeKey> keys, std::string_view program,
                         std::string_view defaults_config = {});

// The engine's full state (312 words) in its standard text form under key; restoring it makes the
// engine produce exactly the numbers it would have produced next. Distributions keep state of
// their own (std::normal_distribution caches one value): draw through fresh ones after restoring,
// or reset() them, for an exact resume.
void put_rng_state(Checkpoint& checkpoint, const std::mt19937_64& rng,
                   const std::string& key = kRngStateKey);
void get_rng_state(const Checkpoint& checkpoint, std::mt19937_64& rng,
                   const std::string& key = kRngStateKey);

// ---- Tensor's templates -------------------------------------------------------------------------
}  // namespace neuralode::train

// In the project-wide detail namespace: a neuralode::train::detail would hide neuralode::detail
// from code in neuralode::train that writes detail::cat.
namespace neuralode::detail {
// Converts elements between little-endian and the native order, in place: reverses each
// element's bytes on a big-endian machine, does nothing on a little-endian one.
inline void little_endian_swap(std::uint8_t* bytes, std::size_t count, std::size_t elem_size) {
  if constexpr (std::endian::native == std::endian::big) {
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t a = 0, b = elem_size - 1; a < b; ++a, --b)
        std::swap(bytes[i * elem_size + a], bytes[i * elem_size + b]);
  }
}
[[noreturn]] void throw_tensor_error(const std::string& message);  // InvalidArgument
}  // namespace neuralode::detail

namespace neuralode::train {

template <class T>
Tensor Tensor::of(std::string name, std::vector<std::int64_t> shape, std::span<const T> values) {
  Tensor t{std::move(name), dtype_of<T>(), std::move(shape), {}};
  if (t.num_elements() != static_cast<std::int64_t>(values.size()))
    neuralode::detail::throw_tensor_error(
        "Tensor::of('" + t.name + "'): " + std::to_string(values.size()) +
        " values do not fill its shape of " + std::to_string(t.num_elements()) + " elements");
  t.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  neuralode::detail::little_endian_swap(t.data.data(), values.size(), sizeof(T));
  return t;
}

template <class T>
std::vector<T> Tensor::values() const {
  if (dtype != dtype_of<T>())
    neuralode::detail::throw_tensor_error("Tensor::values('" + name + "'): the tensor holds " +
                                          std::string(to_string(dtype)) + ", not " +
                                          std::string(to_string(dtype_of<T>())));
  std::vector<T> out(data.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), data.data(), out.size() * sizeof(T));
  neuralode::detail::little_endian_swap(reinterpret_cast<std::uint8_t*>(out.data()), out.size(),
                                        sizeof(T));
  return out;
}

extern template void put_params<float>(Checkpoint&, std::span<const nn::ParamView>,
                                       std::span<const float>);
extern template void put_params<double>(Checkpoint&, std::span<const nn::ParamView>,
                                        std::span<const double>);
extern template void get_params<float>(const Checkpoint&, std::span<const nn::ParamView>,
                                       std::span<float>);
extern template void get_params<double>(const Checkpoint&, std::span<const nn::ParamView>,
                                        std::span<double>);
extern template void put_optimizer_state<float>(Checkpoint&, const OptimizerState<float>&);
extern template void put_optimizer_state<double>(Checkpoint&, const OptimizerState<double>&);
extern template OptimizerState<float> get_optimizer_state<float>(const Checkpoint&);
extern template OptimizerState<double> get_optimizer_state<double>(const Checkpoint&);

}  // namespace neuralode::train
