#include "sgnn/io/model_file.hpp"

#include "sgnn/io/file_seal.hpp"

#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/text.hpp"

#include "h5_handle.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace sgnn::io {
namespace {

std::string checksum_of(const NamedArray& array) {
    Sha256 hash;
    hash.update(array.values.data(), array.values.size() * sizeof(float));
    return hash.hex_digest();
}

void write_array(hid_t group, const NamedArray& array, const std::string& path) {
    std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
    H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                   path + ": cannot create dataspace for " + array.name);
    H5Handle set(
        H5Dcreate2(group, array.name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        H5Dclose, path + ": cannot create dataset " + array.name);
    if (H5Dwrite(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) < 0) {
        throw std::runtime_error(path + ": cannot write dataset " + array.name);
    }
    // The same per-dataset checksum as checkpoints carry (io/h5_datasets.hpp).
    write_string_attribute(set.get(), "sha256", checksum_of(array), path);
}

}  // namespace

void write_model_file(const std::string& path, const ModelFile& model) {
    std::map<std::string, std::string> attributes = model.attributes;
    attributes["format_version"] = kModelFormatVersion;
    // The list of datasets, under the attribute checksum: a dataset deleted or added
    // later is found, not read as a different model.
    std::vector<std::string> datasets;
    for (const NamedArray& array : model.parameters) {
        datasets.push_back(manifest_line("parameters/" + array.name, ElementType::f32, array.shape));
    }
    for (const NamedArray& array : model.normalization) {
        datasets.push_back(manifest_line("normalization/" + array.name, ElementType::f32, array.shape));
    }
    std::sort(datasets.begin(), datasets.end());
    attributes["datasets"] = join_list(datasets);
    attributes["attributes_sha256"] = attributes_checksum(attributes);
    // A model that does not fit says so, rather than failing somewhere inside HDF5.
    std::uint64_t bytes = 65536;
    for (const auto* arrays : {&model.parameters, &model.normalization}) {
        for (const NamedArray& array : *arrays) bytes += 4 * array.values.size() + 1024;
    }
    if (const std::string problem = space_problem(path, bytes); !problem.empty()) {
        throw std::runtime_error("cannot write " + path + ": " + problem);
    }
    replace_file_atomically(path, [&](const std::string& tmp) {
        silence_hdf5_errors();
        H5Handle creation(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "cannot create file creation properties");
        if (H5Pset_userblock(creation.get(), kSealBytes) < 0) throw std::runtime_error("cannot reserve a user block");
        H5Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, creation.get(), H5P_DEFAULT), H5Fclose,
                      "cannot create " + path);
        for (const auto& [group_name, arrays] :
             {std::pair<const char*, const std::vector<NamedArray>*>{"parameters", &model.parameters},
              {"normalization", &model.normalization}}) {
            H5Handle group(H5Gcreate2(file.get(), group_name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                           path + ": cannot create group " + group_name);
            for (const NamedArray& array : *arrays) write_array(group.get(), array, path);
        }
        for (const auto& [name, value] : attributes) write_string_attribute(file.get(), name, value, path);
        if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) throw std::runtime_error("cannot flush " + path);
        if (!file.close()) throw std::runtime_error("cannot write " + path + hdf5_error_cause());
        seal_file(tmp, kModelSeal, path);
    });
}

ModelFile read_model_file(const std::string& path) {
    const DatasetReader reader(path);  // checks the whole file's seal before HDF5 parses it
    ModelFile model;
    model.attributes = read_root_attributes(path);
    const auto attribute = [&](const std::string& name) {
        const auto it = model.attributes.find(name);
        return it == model.attributes.end() ? std::string() : it->second;
    };
    if (attribute("format") != "sgnn-model")
        throw std::runtime_error(path + ": not an sgnn model file (model.h5 of a training run)");
    if (attribute("format_version") != kModelFormatVersion) {
        throw std::runtime_error(path + ": model format_version '" + printable(attribute("format_version")) +
                                 "', this sgnn reads version " + kModelFormatVersion +
                                 " (models with checksums); train it again");
    }
    if (attribute("attributes_sha256") != attributes_checksum(model.attributes)) {
        throw std::runtime_error(path + ": attribute checksum mismatch; the file is damaged");
    }
    std::vector<std::string> found;
    for (const auto& [group, arrays] :
         {std::pair<std::string, std::vector<NamedArray>*>{"parameters", &model.parameters},
          {"normalization", &model.normalization}}) {
        if (!reader.has(group)) throw std::runtime_error(path + ": missing group /" + group + "; the file is damaged");
        // In name order; every read verifies the dataset's sha256.
        for (const std::string& dataset : reader.dataset_paths(group)) {
            const Dataset d = reader.read(dataset);
            if (d.type != ElementType::f32) throw std::runtime_error(path + ": dataset " + dataset + " is not float32");
            arrays->push_back({dataset.substr(group.size() + 1), d.shape, d.as<float>()});
            found.push_back(manifest_line(dataset, d.type, d.shape));
        }
    }
    std::sort(found.begin(), found.end());
    if (reader.dataset_paths().size() != found.size() || found != split_list(attribute("datasets"))) {
        throw std::runtime_error(path +
                                 ": its datasets or their shapes are not those its attribute 'datasets' lists; "
                                 "the file is damaged");
    }
    return model;
}

}  // namespace sgnn::io
