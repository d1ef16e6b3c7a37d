// Fuzzes read_checkpoint (train/checkpoint.hpp), the safetensors reader, and the getters a resumed
// run applies to what it read: get_iteration, get_rng_state, get_optimizer_state and get_params.
// Input: the file's bytes. A checkpoint read without an exception must hold tensors whose data
// match their shape and dtype, and must survive write_checkpoint and a second read unchanged.
#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "neuralode/nn/layer.hpp"
#include "neuralode/train/checkpoint.hpp"

namespace fz = neuralode::fuzz;
namespace tr = neuralode::train;

namespace {

// One view per "params." tensor, laid out one after another, as a model's param_views() are.
std::vector<neuralode::nn::ParamView> views_of(const tr::Checkpoint& ck, neuralode::Index& total) {
  std::vector<neuralode::nn::ParamView> views;
  total = 0;
  for (const auto& t : ck.tensors) {
    if (!t.name.starts_with(tr::kParamsPrefix)) continue;
    neuralode::nn::ParamView v;
    v.name = t.name.substr(tr::kParamsPrefix.size());
    v.shape.assign(t.shape.begin(), t.shape.end());
    v.offset = total;
    total += v.size();
    views.push_back(std::move(v));
  }
  return views;
}

template <class Scalar>
void get_params_of(const tr::Checkpoint& ck) {
  neuralode::Index total = 0;
  const auto views = views_of(ck, total);
  std::vector<Scalar> params(static_cast<std::size_t>(total));
  tr::get_params<Scalar>(ck, views, params);
}

bool same(const tr::Checkpoint& a, const tr::Checkpoint& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    const auto &s = a.tensors[i], &t = b.tensors[i];
    if (s.name != t.name || s.dtype != t.dtype || s.shape != t.shape || s.data != t.data)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fz::scratch_dir() / "checkpoint.safetensors";
  fz::write_file(path, fz::as_text(data, size));

  tr::Checkpoint ck;
  if (!fz::expect_clean("read_checkpoint", [&] { ck = tr::read_checkpoint(path); })) return 0;

  // What read_checkpoint promises about a checkpoint it returns.
  std::set<std::string> names;
  for (const auto& t : ck.tensors) {
    if (t.name == "__metadata__") fz::finding("read_checkpoint returned a tensor '__metadata__'");
    if (!names.insert(t.name).second)
      fz::finding("read_checkpoint returned two tensors named '" + t.name + "'");
    std::int64_t elements = 1;
    for (auto d : t.shape) {
      if (d < 0) fz::finding("read_checkpoint returned a negative dimension in '" + t.name + "'");
      elements *= d;  // read_checkpoint refused shapes whose byte count overflows
    }
    if (static_cast<std::uint64_t>(elements) * tr::dtype_size_bytes(t.dtype) != t.data.size())
      fz::finding("read_checkpoint returned tensor '" + t.name +
                  "' whose data do not match its shape and dtype");
  }

  // The getters a resume runs; each may refuse (IoError), none may fail otherwise.
  fz::expect_clean("get_iteration", [&] { (void)tr::get_iteration(ck); });
  fz::expect_clean("get_rng_state", [&] {
    std::mt19937_64 rng;
    tr::get_rng_state(ck, rng);
  });
  fz::expect_clean("get_optimizer_state<float>", [&] { (void)tr::get_optimizer_state<float>(ck); });
  fz::expect_clean("get_optimizer_state<double>",
                   [&] { (void)tr::get_optimizer_state<double>(ck); });
  fz::expect_clean("get_params<float>", [&] { get_params_of<float>(ck); });
  fz::expect_clean("get_params<double>", [&] { get_params_of<double>(ck); });

  // Round trip: what was read can be written (or is refused up front) and reads back the same.
  const auto copy = fz::scratch_dir() / "copy.safetensors";
  if (!fz::expect_clean("write_checkpoint", [&] { tr::write_checkpoint(copy, ck); })) return 0;
  tr::Checkpoint again;
  fz::must_succeed("read_checkpoint of write_checkpoint's file",
                   [&] { again = tr::read_checkpoint(copy); });
  if (!same(ck, again)) fz::finding("write_checkpoint then read_checkpoint changed the checkpoint");
  return 0;
}
