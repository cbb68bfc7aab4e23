// HDF5 files built from typed datasets, each with a SHA-256 checksum: written by
// several ranks at once through the MPI-IO driver (checkpoints), read back with the
// checksums verified. The files open in h5py like any other HDF5 file.
//
//   dataset attribute  sha256   hex digest of the dataset's bytes (little-endian, C order)
//   /manifest          text: every other dataset, one "path[d0xd1...]" per line (text
//                      datasets "path[text]"), sorted; a reader finds one deleted or added
//   root attributes    strings given by the writer (format, format_version, ...), and
//                      attributes_sha256 over all the others
#pragma once

#include <mpi.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

namespace sgnn::io {

enum class ElementType : std::int32_t { f32 = 1, f64 = 2, i64 = 3, u64 = 4, u8 = 5, text = 6 };

std::size_t element_size(ElementType type);

// One dataset: a path such as "model/parameters/fc.weight" (groups are created as
// needed), its element type and shape, and its bytes. Text is a scalar string.
struct Dataset {
    std::string path;
    ElementType type = ElementType::u8;
    std::vector<std::uint64_t> shape;
    std::vector<unsigned char> bytes;

    std::uint64_t element_count() const;

    template <typename T>
    std::vector<T> as() const {
        std::vector<T> values(bytes.size() / sizeof(T));
        if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
        return values;
    }
    std::string text() const { return std::string(bytes.begin(), bytes.end()); }
};

template <typename T>
constexpr ElementType element_type_of() {
    if constexpr (std::is_same_v<T, float>) return ElementType::f32;
    if constexpr (std::is_same_v<T, double>) return ElementType::f64;
    if constexpr (std::is_same_v<T, std::int64_t>) return ElementType::i64;
    if constexpr (std::is_same_v<T, std::uint64_t>) return ElementType::u64;
    if constexpr (std::is_same_v<T, std::uint8_t>) return ElementType::u8;
}

// A dataset of `values` with `shape` (default: one dimension of values.size()).
template <typename T>
Dataset make_dataset(const std::string& path, const std::vector<T>& values, std::vector<std::uint64_t> shape = {}) {
    Dataset d;
    d.path = path;
    d.type = element_type_of<T>();
    d.shape = shape.empty() ? std::vector<std::uint64_t>{values.size()} : std::move(shape);
    d.bytes.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(d.bytes.data(), values.data(), d.bytes.size());
    return d;
}
Dataset make_text_dataset(const std::string& path, const std::string& text);

// A dataset as manifests list it: "path[d0xd1...]", or "path[text]" for a string
// (/manifest of collectively written files, the `datasets` attribute of model.h5).
std::string manifest_line(const std::string& path, ElementType type, const std::vector<std::uint64_t>& shape);

// Collective over `comm`: every rank passes the datasets it owns (each path owned by
// one rank); the root attributes are rank 0's. The file is created as "<path>.tmp" through
// the MPI-IO driver, every rank writes its own datasets, the file is flushed and
// closed, and rank 0 renames it over `path`, so a kill at any moment leaves either
// the old file or the complete new one. If any rank fails, every rank throws (rank 0
// with the first failure's message, naming the file) and the temporary is removed.
void write_datasets_collectively(MPI_Comm comm, const std::string& path, const std::vector<Dataset>& mine,
                                 const std::map<std::string, std::string>& root_attributes);

// Reads a file written as above, on one rank (no MPI-IO). Every read verifies the
// dataset's checksum. Errors are std::runtime_error naming the file and the problem.
class DatasetReader {
public:
    explicit DatasetReader(const std::string& path);
    ~DatasetReader();
    DatasetReader(const DatasetReader&) = delete;
    DatasetReader& operator=(const DatasetReader&) = delete;

    const std::string& path() const { return path_; }
    bool has_attribute(const std::string& name) const;
    std::string attribute(const std::string& name) const;  // root attribute; throws if missing
    // Throws unless the root attributes match their attributes_sha256 (which
    // write_datasets_collectively stores).
    void verify_attribute_checksum() const;
    bool has(const std::string& dataset_path) const;
    Dataset read(const std::string& dataset_path) const;  // throws if missing or corrupt
    // Full paths of every dataset under a group ("" for the whole file), sorted.
    std::vector<std::string> dataset_paths(const std::string& group = "") const;
    // Reads every dataset in the file, by path; throws on the first checksum mismatch,
    // and when the datasets are not those /manifest lists (a file without a manifest,
    // written by an older sgnn, is accepted only with `manifest_required` false).
    std::map<std::string, Dataset> read_all(bool manifest_required = true) const;
    void verify_all() const { read_all(); }

private:
    std::string path_;
    long long file_;  // hid_t
};

}  // namespace sgnn::io
