// RAII for HDF5 identifiers and string attributes, private to io/: a handle closes its id on scope exit and
// refuses to exist for a failed call, so every HDF5 failure becomes an exception
// with a message that names the file.
#pragma once

#include "sgnn/io/h5_datasets.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sgnn::io {

class H5Handle {
public:
    H5Handle(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
        if (id_ < 0) throw std::runtime_error(what);
    }
    ~H5Handle() {
        if (id_ >= 0) close_(id_);
    }
    H5Handle(const H5Handle&) = delete;
    H5Handle& operator=(const H5Handle&) = delete;
    H5Handle(H5Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
    H5Handle& operator=(H5Handle&&) = delete;
    hid_t get() const { return id_; }
    // Closes now and reports whether closing worked (a file's close writes metadata).
    bool close() {
        const herr_t status = id_ >= 0 ? close_(id_) : 0;
        id_ = -1;
        return status >= 0;
    }

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

// HDF5 types of sgnn's element types (text has no fixed type).
inline hid_t h5_file_type(ElementType type) {
    switch (type) {
        case ElementType::f32:
            return H5T_IEEE_F32LE;
        case ElementType::f64:
            return H5T_IEEE_F64LE;
        case ElementType::i64:
            return H5T_STD_I64LE;
        case ElementType::u64:
            return H5T_STD_U64LE;
        case ElementType::u8:
            return H5T_STD_U8LE;
        case ElementType::text:
            break;
    }
    throw std::logic_error("no fixed HDF5 type for text");
}

inline hid_t h5_memory_type(ElementType type) {
    switch (type) {
        case ElementType::f32:
            return H5T_NATIVE_FLOAT;
        case ElementType::f64:
            return H5T_NATIVE_DOUBLE;
        case ElementType::i64:
            return H5T_NATIVE_INT64;
        case ElementType::u64:
            return H5T_NATIVE_UINT64;
        case ElementType::u8:
            return H5T_NATIVE_UINT8;
        case ElementType::text:
            break;
    }
    throw std::logic_error("no fixed HDF5 type for text");
}

// The sgnn element type an HDF5 dataset type stores, or false when it is none of them
// (a 16-bit float, a 32-bit integer, a compound, ...).
inline bool element_type_of_h5(hid_t type, ElementType& element) {
    const std::size_t size = H5Tget_size(type);
    switch (H5Tget_class(type)) {
        case H5T_FLOAT:
            if (size != 4 && size != 8) return false;
            element = size == 4 ? ElementType::f32 : ElementType::f64;
            return true;
        case H5T_INTEGER:
            if (size == 8) {
                element = H5Tget_sign(type) == H5T_SGN_NONE ? ElementType::u64 : ElementType::i64;
                return true;
            }
            if (size == 1 && H5Tget_sign(type) == H5T_SGN_NONE) {
                element = ElementType::u8;
                return true;
            }
            return false;
        case H5T_STRING:
            element = ElementType::text;
            return H5Tis_variable_str(type) <= 0;
        default:
            return false;
    }
}

inline const char* element_type_name(ElementType type) {
    switch (type) {
        case ElementType::f32:
            return "float32";
        case ElementType::f64:
            return "float64";
        case ElementType::i64:
            return "int64";
        case ElementType::u64:
            return "uint64";
        case ElementType::u8:
            return "uint8";
        case ElementType::text:
            return "a fixed-length string";
    }
    return "?";
}

// Whether reading `bytes` could be real for the file at `path`: sgnn stores datasets
// uncompressed, so one cannot hold more bytes than its file. A damaged or forged
// shape then becomes an error instead of a huge allocation.
bool fits_in_file(const std::string& path, long double bytes);

// HDF5 prints an error stack on every failed call by default; sgnn reports its own
// one-line errors instead.
inline void silence_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// The innermost cause on HDF5's error stack (where the operating system's or MPI-IO's
// own words end up, such as "No space left on device"), as ": cause", or "".
inline std::string hdf5_error_cause() {
    std::string cause;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_UPWARD,
        [](unsigned n, const H5E_error2_t* error, void* data) -> herr_t {
            if (n == 0 && error->desc != nullptr) *static_cast<std::string*>(data) = error->desc;
            return 0;
        },
        &cause);
    return cause.empty() ? cause : ": " + cause;
}

// A fixed-length UTF-8 string type: h5py reads it as bytes (`.decode()` gives str).
inline H5Handle string_type(std::size_t length, const std::string& what) {
    H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose, what);
    H5Tset_size(type.get(), std::max<std::size_t>(1, length));
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    return type;
}

inline void write_string_attribute(hid_t object, const std::string& name, const std::string& value,
                                   const std::string& what) {
    H5Handle type = string_type(value.size(), what);
    H5Handle space(H5Screate(H5S_SCALAR), H5Sclose, what);
    H5Handle attribute(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                       what + ": cannot create attribute " + name);
    if (H5Awrite(attribute.get(), type.get(), value.empty() ? "" : value.c_str()) < 0) {
        throw std::runtime_error(what + ": cannot write attribute " + name);
    }
}

inline std::string read_string_attribute(hid_t object, const std::string& name, const std::string& what) {
    H5Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, what + ": no attribute " + name);
    H5Handle type(H5Aget_type(attribute.get()), H5Tclose, what + ": cannot read attribute " + name);
    if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) {
        throw std::runtime_error(what + ": attribute " + name + " is not a fixed-length string");
    }
    std::string value(H5Tget_size(type.get()), '\0');
    if (H5Aread(attribute.get(), type.get(), value.data()) < 0) {
        throw std::runtime_error(what + ": cannot read attribute " + name);
    }
    value.resize(std::strlen(value.c_str()));
    return value;
}

}  // namespace sgnn::io
