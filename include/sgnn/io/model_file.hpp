// model.h5: trained parameters by name, readable with h5py.
//
//   /parameters/<name>      float32 arrays, names as in the network ("blocks.0.fc1.weight")
//   /normalization/<name>   float32 arrays that map network outputs back to target units
//   root attributes         strings: format, format_version, model, targets, sha256 (of
//                           the parameters in network order), attributes_sha256 (of all
//                           the other attributes)
// Every dataset carries its own sha256 attribute, as checkpoints do; reading verifies
// each one and the attributes, so a damaged file is an error, never other predictions.
// The first 512 bytes (HDF5's user block) hold "sgnn-model-sha256 <hex>", the SHA-256 of
// every later byte, checked before HDF5 parses the file: HDF5 itself can crash on
// damaged metadata.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sgnn::io {

constexpr const char* kModelFormatVersion = "2";

struct NamedArray {
    std::string name;
    std::vector<std::uint64_t> shape;
    std::vector<float> values;
};

struct ModelFile {
    std::vector<NamedArray> parameters;
    std::vector<NamedArray> normalization;
    std::map<std::string, std::string> attributes;
};

// Written atomically (format_version and attributes_sha256 are set here); throws
// std::runtime_error naming the file.
void write_model_file(const std::string& path, const ModelFile& model);
ModelFile read_model_file(const std::string& path);

}  // namespace sgnn::io
