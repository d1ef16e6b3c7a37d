// safetensors reading and writing (format: github.com/huggingface/safetensors, "Format" section):
// u64 little-endian N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {str: str}}, then the data section; offsets are relative to the data section.
// Writing goes through a temporary file and a rename so a crash never leaves a torn checkpoint.
#include "neuralode/train/checkpoint.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"

namespace neuralode::detail {
void throw_tensor_error(const std::string& message) {
  throw InvalidArgument(message);
}
}  // namespace neuralode::detail

namespace neuralode::train {

using neuralode::detail::cat;
using neuralode::detail::errno_text;
using json = nlohmann::ordered_json;

namespace {

// safetensors refuses headers above 100 MB (MAX_HEADER_SIZE in its Rust crate); so do we, which
// also stops a corrupt length from asking for terabytes.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Bytes a shape of a dtype needs, or -1 when a dimension is negative or the count overflows.
std::int64_t byte_count(const std::vector<std::int64_t>& shape, DType dtype) {
  std::int64_t n = static_cast<std::int64_t>(dtype_size_bytes(dtype));
  for (auto d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

}  // namespace

// ---- dtype --------------------------------------------------------------------------------------

std::string_view to_string(DType d) {
  switch (d) {
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::I64:
      return "I64";
    case DType::U8:
      return "U8";
  }
  return "?";
}

DType parse_dtype(std::string_view word) {
  if (word == "F32") return DType::F32;
  if (word == "F64") return DType::F64;
  if (word == "I64") return DType::I64;
  if (word == "U8") return DType::U8;
  throw InvalidArgument(cat("unsupported dtype '", word, "'; accepted: F32, F64, I64, U8"));
}

std::size_t dtype_size_bytes(DType d) {
  switch (d) {
    case DType::F32:
      return 4;
    case DType::F64:
      return 8;
    case DType::I64:
      return 8;
    case DType::U8:
      return 1;
  }
  return 0;
}

// ---- Checkpoint ---------------------------------------------------------------------------------

const Tensor* Checkpoint::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const Tensor& Checkpoint::at(std::string_view name) const {
  if (const Tensor* t = find(name)) return *t;
  throw IoError(cat("checkpoint '", source.empty() ? "(in memory)" : source, "': no tensor '", name,
                    "' among its ", tensors.size(), " tensors"));
}

void Checkpoint::put(Tensor t) {
  for (auto& existing : tensors)
    if (existing.name == t.name) {
      existing = std::move(t);
      return;
    }
  tensors.push_back(std::move(t));
}

// ---- writing ------------------------------------------------------------------------------------

namespace {

// Everything write_checkpoint can check before touching the disk.
void check_for_writing(const std::filesystem::path& path, const std::vector<Tensor>& tensors) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    const std::string where = cat("write_checkpoint '", path.string(), "': tensors[", i, "]");
    if (t.name.empty()) throw InvalidArgument(cat(where, " has an empty name"));
    if (t.name == "__metadata__")
      throw InvalidArgument(cat(where, " is named '__metadata__', which safetensors reserves"));
    if (!seen.insert(t.name).second)
      throw InvalidArgument(cat(where, ": the name '", t.name, "' is used twice"));
    const std::int64_t need = byte_count(t.shape, t.dtype);
    if (need < 0)
      throw InvalidArgument(cat(where, " '", t.name, "': shape ", shape_text(t.shape),
                                " has a negative dimension or too many elements"));
    if (need != static_cast<std::int64_t>(t.data.size()))
      throw InvalidArgument(cat(where, " '", t.name, "': shape ", shape_text(t.shape), " of ",
                                to_string(t.dtype), " needs ", need, " bytes but data has ",
                                t.data.size()));
  }
}

// The full header text, padded with spaces so 8 + its length is a multiple of 8.
std::string make_header(const std::vector<Tensor>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) {
    json meta = json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::uint64_t end = offset + t.data.size();
    header[t.name] = {{"dtype", std::string(to_string(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

void write_checkpoint(const std::filesystem::path& path, const std::vector<Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  check_for_writing(path, tensors);
  const std::string header = make_header(tensors, metadata);
  std::uint8_t length[8];
  const std::uint64_t header_bytes = header.size();
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(header_bytes >> (8 * i));
  // The pieces are written in place: the tensors' bytes are not copied into one buffer first.
  std::vector<std::string_view> pieces;
  pieces.reserve(tensors.size() + 2);
  pieces.emplace_back(reinterpret_cast<const char*>(length), sizeof length);
  pieces.emplace_back(header);
  for (const auto& t : tensors)
    pieces.emplace_back(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  try {
    neuralode::detail::write_file_atomically(path, pieces, "write_checkpoint");
  } catch (const IoError& e) {
    throw IoError(cat(e.what(), "; the previous checkpoint, if any, is unchanged"));
  }
}

void write_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  write_checkpoint(path, checkpoint.tensors, checkpoint.metadata);
}

// ---- reading ------------------------------------------------------------------------------------

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  const std::string file = path.string();
  const auto bad = [&](const std::string& problem) -> IoError {
    return IoError(cat("checkpoint '", file, "': ", problem));
  };

  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw bad("is a directory, not a checkpoint file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int e = errno;
    throw bad(cat("cannot open: ", errno_text(e)));
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (in.bad()) throw bad("read error");

  if (bytes.size() < 8)
    throw bad(cat("file too short (", bytes.size(),
                  " bytes); a safetensors file starts with an 8-byte header length"));
  std::uint64_t header_bytes = 0;
  for (int i = 0; i < 8; ++i) header_bytes |= std::uint64_t(bytes[i]) << (8 * i);
  const std::uint64_t rest = bytes.size() - 8;
  if (header_bytes > kMaxHeaderBytes)
    throw bad(cat("header length ", header_bytes,
                  " is absurd: above the 100 MB limit (not a safetensors file?)"));
  if (header_bytes > rest)
    throw bad(cat("header length ", header_bytes, " is absurd: only ", rest,
                  " bytes follow it (truncated file, or not a safetensors file)"));

  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(header_bytes));
  } catch (const json::exception& e) {
    throw bad(cat("malformed JSON header: ", e.what()));
  }
  if (!header.is_object()) throw bad("malformed header: the JSON is not an object");

  Checkpoint ckpt;
  ckpt.source = file;
  const std::uint8_t* data = bytes.data() + 8 + header_bytes;
  const std::uint64_t data_bytes = rest - header_bytes;
  struct Span {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw bad("malformed header: __metadata__ is not a JSON object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string())
          throw bad(cat("malformed header: __metadata__['", k,
                        "'] is not a string (safetensors metadata maps strings to strings)"));
        ckpt.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = cat("tensor '", name, "'");
    if (!entry.is_object()) throw bad(cat(where, ": entry is not a JSON object"));
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string())
      throw bad(cat(where, ": missing or non-string \"dtype\""));
    if (shape_it == entry.end() || !shape_it->is_array())
      throw bad(cat(where, ": missing or non-array \"shape\""));
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
      throw bad(cat(where, ": \"data_offsets\" must be [begin, end] of non-negative integers"));

    Tensor t;
    t.name = name;
    const auto dtype_word = dtype_it->get<std::string>();
    try {
      t.dtype = parse_dtype(dtype_word);
    } catch (const InvalidArgument&) {
      throw bad(cat(where, ": unsupported dtype '", dtype_word, "'; accepted: F32, F64, I64, U8"));
    }
    for (const auto& d : *shape_it) {
      if (!d.is_number_unsigned() ||
          d.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
        throw bad(
            cat(where, ": \"shape\" must hold non-negative integers, got ", shape_it->dump()));
      t.shape.push_back(d.get<std::int64_t>());
    }
    const auto begin = (*offsets_it)[0].get<std::uint64_t>();
    const auto end = (*offsets_it)[1].get<std::uint64_t>();
    if (begin > end || end > data_bytes)
      throw bad(cat(where, ": data_offsets [", begin, ", ", end,
                    "] out of range: the data section has ", data_bytes, " bytes"));
    const std::int64_t need = byte_count(t.shape, t.dtype);
    if (need < 0 || static_cast<std::uint64_t>(need) != end - begin)
      throw bad(cat(where, ": shape ", shape_text(t.shape), " of ", to_string(t.dtype), " needs ",
                    need < 0 ? std::string("too many") : std::to_string(need),
                    " bytes but data_offsets [", begin, ", ", end, "] hold ", end - begin));
    t.data.assign(data + begin, data + end);
    spans.push_back({begin, end, name});
    ckpt.tensors.push_back(std::move(t));
  }

  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end)
      throw bad(cat("tensors '", spans[i - 1].name, "' [", spans[i - 1].begin, ", ",
                    spans[i - 1].end, "] and '", spans[i].name, "' [", spans[i].begin, ", ",
                    spans[i].end, "] overlap"));
  return ckpt;
}

// ---- what a training run stores -----------------------------------------------------------------

namespace {

std::string source_of(const Checkpoint& c) {
  return c.source.empty() ? "(in memory)" : c.source;
}

const std::string& required_metadata(const Checkpoint& c, const char* key) {
  auto it = c.metadata.find(key);
  if (it == c.metadata.end())
    throw IoError(cat("checkpoint '", source_of(c), "': no metadata '", key,
                      "' (was it written by put_* of this version?)"));
  return it->second;
}

// A metadata value shortened for a message: a corrupt file can hold megabytes in one value.
std::string excerpt(const std::string& text) {
  return text.size() <= 60 ? text : text.substr(0, 60) + "...";
}

// Values of a floating-point tensor as Scalar (F32 and F64 convert; others are an error). NaN and
// Inf are refused, naming the tensor and the first such index: a checkpoint is the state a run
// continues from, and a non-finite one only fails later (as "step size underflow at t = 0").
template <class Scalar>
void copy_floats(const Checkpoint& c, const Tensor& t, std::span<Scalar> out) {
  const auto copy = [&](const auto& v) {
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        throw IoError(cat("checkpoint '", source_of(c), "': tensor '", t.name, "' holds ",
                          neuralode::detail::num(static_cast<double>(v[i])), " at index ", i,
                          " (of ", v.size(),
                          "); a checkpoint must hold finite values (was it saved after the run "
                          "diverged?); resume from an earlier checkpoint or start a new run"));
    std::copy(v.begin(), v.end(), out.begin());
  };
  if (t.dtype == DType::F32) {
    copy(t.values<float>());
  } else if (t.dtype == DType::F64) {
    copy(t.values<double>());
  } else {
    throw IoError(cat("checkpoint '", source_of(c), "': tensor '", t.name, "' holds ",
                      to_string(t.dtype), "; parameters and optimizer state are F32 or F64"));
  }
}

}  // namespace

namespace {

std::int64_t parse_int_metadata(const Checkpoint& c, const char* key, const std::string& text,
                                std::int64_t min, std::int64_t max) {
  const std::string range =
      max == INT64_MAX ? cat("an integer >= ", min) : cat("an integer in [", min, ", ", max, "]");
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw IoError(cat("checkpoint '", source_of(c), "': metadata '", key, "' = '", excerpt(text),
                      "' is not an integer",
                      ec == std::errc::result_out_of_range ? " (out of the 64-bit range)" : "",
                      "; accepted: ", range));
  if (v < min || v > max)
    throw IoError(cat("checkpoint '", source_of(c), "': metadata '", key, "' = ", v,
                      " is out of range; accepted: ", range));
  return v;
}

}  // namespace

std::int64_t get_int_metadata(const Checkpoint& c, const char* key, std::int64_t min,
                              std::int64_t max) {
  return parse_int_metadata(c, key, required_metadata(c, key), min, max);
}

std::int64_t get_int_metadata_or(const Checkpoint& c, const char* key, std::int64_t fallback,
                                 std::int64_t min, std::int64_t max) {
  const auto it = c.metadata.find(key);
  return it == c.metadata.end() ? fallback : parse_int_metadata(c, key, it->second, min, max);
}

void require_same_config(const Checkpoint& c, std::string_view current_config,
                         std::span<const ResumeKey> keys, std::string_view program,
                         std::string_view defaults_config) {
  const std::string& text = required_metadata(c, kConfigKey);
  const json saved = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (saved.is_discarded() || !saved.is_object())
    throw IoError(cat("checkpoint '", source_of(c), "': metadata '", kConfigKey,
                      "' is not a JSON object: '", excerpt(text), "'"));
  const json current = json::parse(current_config);  // ours: a parse error is a bug
  const json defaults =
      defaults_config.empty() ? json::object() : json::parse(defaults_config);  // ours, too
  // Every key first: a checkpoint of another program is named as such, not by its first value
  // that happens to differ.
  for (const ResumeKey& k : keys)
    if (!saved.contains(k.config_key) && !k.may_be_absent)
      throw IoError(cat("checkpoint '", source_of(c), "': its configuration has no '", k.config_key,
                        "'; it is not a checkpoint of ", program,
                        " (another program's, or a damaged file)"));
  for (const ResumeKey& k : keys) {
    const auto found = saved.find(k.config_key);
    const json& recorded = found != saved.end() ? *found : defaults.at(k.config_key);
    const auto it = &recorded;
    const json& now = current.at(k.config_key);
    // nlohmann's == compares numbers by value across integer and floating-point types.
    if (*it != now) {
      const auto word = [](const json& v) {
        return v.is_string() ? v.get<std::string>() : v.dump();
      };
      throw InvalidArgument(cat(program, " --resume: ", k.flag, " = ", word(now),
                                " differs from the checkpoint's ", word(*it), " ('", source_of(c),
                                "'); a resumed run keeps the options it was started with: pass ",
                                k.flag, " ", word(*it), ", or start a new run in another --out"));
    }
  }
}

template <class Scalar>
void put_params(Checkpoint& checkpoint, std::span<const nn::ParamView> views,
                std::span<const Scalar> params) {
  for (const auto& v : views) {
    if (v.offset < 0 || v.offset + v.size() > static_cast<Index>(params.size()))
      throw InvalidArgument(cat("put_params: view '", v.name, "' covers [", v.offset, ", ",
                                v.offset + v.size(), ") but params has ", params.size(),
                                " entries"));
    std::vector<std::int64_t> shape(v.shape.begin(), v.shape.end());
    checkpoint.put(Tensor::of<Scalar>(
        cat(kParamsPrefix, v.name), std::move(shape),
        params.subspan(static_cast<std::size_t>(v.offset), static_cast<std::size_t>(v.size()))));
  }
}

template <class Scalar>
void get_params(const Checkpoint& checkpoint, std::span<const nn::ParamView> views,
                std::span<Scalar> params) {
  for (const auto& v : views) {
    if (v.offset < 0 || v.offset + v.size() > static_cast<Index>(params.size()))
      throw InvalidArgument(cat("get_params: view '", v.name, "' covers [", v.offset, ", ",
                                v.offset + v.size(), ") but params has ", params.size(),
                                " entries"));
    const std::string name = cat(kParamsPrefix, v.name);
    const Tensor* t = checkpoint.find(name);
    if (t == nullptr)
      throw IoError(cat("checkpoint '", source_of(checkpoint), "': no tensor '", name,
                        "' for the model's parameter view '", v.name,
                        "'; was it written by another model configuration?"));
    const std::vector<std::int64_t> shape(v.shape.begin(), v.shape.end());
    if (t->shape != shape)
      throw IoError(cat("checkpoint '", source_of(checkpoint), "': tensor '", name, "' has shape ",
                        shape_text(t->shape), " but the model's view has ", shape_text(shape),
                        "; was it written by another model configuration?"));
    copy_floats<Scalar>(
        checkpoint, *t,
        params.subspan(static_cast<std::size_t>(v.offset), static_cast<std::size_t>(v.size())));
  }
}

template <class Scalar>
void put_optimizer_state(Checkpoint& checkpoint, const OptimizerState<Scalar>& state) {
  std::erase_if(checkpoint.tensors,
                [](const Tensor& t) { return t.name.starts_with(kOptimPrefix); });
  checkpoint.metadata[kOptimizerKey] = state.optimizer;
  checkpoint.metadata[kOptimizerStepsKey] = std::to_string(state.num_steps);
  char lr[40];
  std::snprintf(lr, sizeof lr, "%.17g", state.learning_rate);  // round-trips a double exactly
  checkpoint.metadata[kOptimizerLrKey] = lr;
  for (const auto& [name, values] : state.buffers)
    checkpoint.put(Tensor::of<Scalar>(cat(kOptimPrefix, name),
                                      {static_cast<std::int64_t>(values.size())},
                                      std::span<const Scalar>(values)));
}

template <class Scalar>
OptimizerState<Scalar> get_optimizer_state(const Checkpoint& checkpoint) {
  OptimizerState<Scalar> state;
  state.optimizer = required_metadata(checkpoint, kOptimizerKey);
  state.num_steps = get_int_metadata(checkpoint, kOptimizerStepsKey, 0);
  const std::string& lr = required_metadata(checkpoint, kOptimizerLrKey);
  char* end = nullptr;
  state.learning_rate = std::strtod(lr.c_str(), &end);
  if (lr.empty() || end != lr.c_str() + lr.size() ||
      std::isspace(static_cast<unsigned char>(lr[0])))
    throw IoError(cat("checkpoint '", source_of(checkpoint), "': metadata '", kOptimizerLrKey,
                      "' = '", excerpt(lr), "' is not a number"));
  if (!std::isfinite(state.learning_rate) || state.learning_rate < 0)
    throw IoError(cat("checkpoint '", source_of(checkpoint), "': metadata '", kOptimizerLrKey,
                      "' = ", lr, " is out of range; accepted: a finite number >= 0"));
  for (const auto& t : checkpoint.tensors) {
    if (!t.name.starts_with(kOptimPrefix)) continue;
    if (t.shape.size() != 1)
      throw IoError(cat("checkpoint '", source_of(checkpoint), "': optimizer buffer '", t.name,
                        "' has shape ", shape_text(t.shape), "; buffers are one-dimensional"));
    auto& buf = state.buffers[t.name.substr(kOptimPrefix.size())];
    buf.resize(static_cast<std::size_t>(t.shape[0]));
    copy_floats<Scalar>(checkpoint, t, std::span<Scalar>(buf));
  }
  return state;
}

void put_iteration(Checkpoint& checkpoint, std::int64_t iteration) {
  checkpoint.metadata[kIterationKey] = std::to_string(iteration);
}

std::int64_t get_iteration(const Checkpoint& checkpoint) {
  return get_int_metadata(checkpoint, kIterationKey, 0);
}

void put_rng_state(Checkpoint& checkpoint, const std::mt19937_64& rng, const std::string& key) {
  std::ostringstream out;
  out << rng;
  checkpoint.metadata[key] = out.str();
}

void get_rng_state(const Checkpoint& checkpoint, std::mt19937_64& rng, const std::string& key) {
  std::istringstream in(required_metadata(checkpoint, key.c_str()));
  std::mt19937_64 restored;
  in >> restored;
  if (in.fail() || !(in >> std::ws).eof())
    throw IoError(cat("checkpoint '", source_of(checkpoint), "': metadata '", key,
                      "' is not a std::mt19937_64 state (312 words and an index)"));
  rng = restored;
}

template void put_params<float>(Checkpoint&, std::span<const nn::ParamView>,
                                std::span<const float>);
template void put_params<double>(Checkpoint&, std::span<const nn::ParamView>,
                                 std::span<const double>);
template void get_params<float>(const Checkpoint&, std::span<const nn::ParamView>,
                                std::span<float>);
template void get_params<double>(const Checkpoint&, std::span<const nn::ParamView>,
                                 std::span<double>);
template void put_optimizer_state<float>(Checkpoint&, const OptimizerState<float>&);
template void put_optimizer_state<double>(Checkpoint&, const OptimizerState<double>&);
template OptimizerState<float> get_optimizer_state<float>(const Checkpoint&);
template OptimizerState<double> get_optimizer_state<double>(const Checkpoint&);

}  // namespace neuralode::train
