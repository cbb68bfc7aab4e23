#include "sgnn/io/model_file.hpp"

#include "sgnn/io/atomic_file.hpp"

#include "h5_handle.hpp"

#include <stdexcept>

namespace sgnn::io {
namespace {

void write_array(hid_t group, const NamedArray& array, const std::string& path) {
    std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
    H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                 path + ": cannot create dataspace for " + array.name);
    H5Handle set(H5Dcreate2(group, array.name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT),
               H5Dclose, path + ": cannot create dataset " + array.name);
    if (H5Dwrite(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) < 0) {
        throw std::runtime_error(path + ": cannot write dataset " + array.name);
    }
}

struct ReadContext {
    std::vector<NamedArray>* arrays;
    std::string path;
};

herr_t read_dataset(hid_t group, const char* name, const H5L_info_t*, void* data) {
    auto* context = static_cast<ReadContext*>(data);
    H5Handle set(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose, context->path + ": cannot open dataset " + name);
    H5Handle space(H5Dget_space(set.get()), H5Sclose, context->path + ": cannot read dataspace of " + name);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank > 0 ? rank : 0));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    NamedArray array;
    array.name = name;
    std::size_t count = 1;
    for (hsize_t d : dims) {
        array.shape.push_back(d);
        count *= d;
    }
    array.values.resize(count);
    if (H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) < 0) {
        throw std::runtime_error(context->path + ": cannot read dataset " + name);
    }
    context->arrays->push_back(std::move(array));
    return 0;
}

}  // namespace

void write_model_file(const std::string& path, const ModelFile& model) {
    replace_file_atomically(path, [&](const std::string& tmp) {
        silence_hdf5_errors();
        H5Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                    "cannot create " + path);
        for (const auto& [group_name, arrays] :
             {std::pair<const char*, const std::vector<NamedArray>*>{"parameters", &model.parameters},
              {"normalization", &model.normalization}}) {
            H5Handle group(H5Gcreate2(file.get(), group_name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                         path + ": cannot create group " + group_name);
            for (const NamedArray& array : *arrays) write_array(group.get(), array, path);
        }
        for (const auto& [name, value] : model.attributes) write_string_attribute(file.get(), name, value, path);
        if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) throw std::runtime_error("cannot flush " + path);
    });
}

ModelFile read_model_file(const std::string& path) {
    silence_hdf5_errors();
    H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                path + ": not a readable HDF5 model file");
    ModelFile model;
    for (const auto& [group_name, arrays] :
         {std::pair<const char*, std::vector<NamedArray>*>{"parameters", &model.parameters},
          {"normalization", &model.normalization}}) {
        H5Handle group(H5Gopen2(file.get(), group_name, H5P_DEFAULT), H5Gclose,
                     path + ": missing group /" + group_name);
        ReadContext context{arrays, path};
        hsize_t index = 0;
        // Creation order is not tracked, so datasets come back in name order.
        H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_NATIVE, &index, read_dataset, &context);
    }
    std::vector<std::string> names;
    hsize_t index = 0;
    H5Aiterate2(
        file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, &index,
        [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
            static_cast<std::vector<std::string>*>(data)->push_back(name);
            return 0;
        },
        &names);
    for (const std::string& name : names) model.attributes[name] = read_string_attribute(file.get(), name, path);
    return model;
}

}  // namespace sgnn::io
