#include "sgnn/io/h5_datasets.hpp"

#include "sgnn/io/file_seal.hpp"

#include "h5_handle.hpp"
#include "sgnn/comm/mpi.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/sha256.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>

namespace sgnn::io {
namespace {

struct ManifestEntry {
    std::string path;
    ElementType type;
    std::vector<std::uint64_t> shape;
    std::string sha256;
    std::size_t text_length = 0;
    int owner = 0;
    const Dataset* data = nullptr;  // on the owner only
};

std::string checksum(const Dataset& d) {
    Sha256 hash;
    hash.update(d.bytes.data(), d.bytes.size());
    return hash.hex_digest();
}

// One line per dataset: path, type, text length, sha256, dims.
std::string encode_manifest(const std::vector<const Dataset*>& datasets) {
    std::string text;
    for (const Dataset* dataset : datasets) {
        const Dataset& d = *dataset;
        if (d.path.find_first_of("\t\n") != std::string::npos)
            throw std::logic_error("dataset path with tab or newline");
        text += d.path + '\t' + std::to_string(static_cast<int>(d.type)) + '\t' + std::to_string(d.bytes.size()) +
                '\t' + checksum(d);
        for (std::uint64_t n : d.shape) text += '\t' + std::to_string(n);
        text += '\n';
    }
    return text;
}

std::vector<ManifestEntry> decode_manifest(const std::string& text, int owner) {
    std::vector<ManifestEntry> entries;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        ManifestEntry e;
        std::string field;
        std::getline(fields, e.path, '\t');
        std::getline(fields, field, '\t');
        e.type = static_cast<ElementType>(std::stoi(field));
        std::getline(fields, field, '\t');
        e.text_length = std::stoull(field);
        std::getline(fields, e.sha256, '\t');
        while (std::getline(fields, field, '\t')) e.shape.push_back(std::stoull(field));
        e.owner = owner;
        entries.push_back(std::move(e));
    }
    return entries;
}

// Every rank's manifest, in rank order.
std::vector<ManifestEntry> gather_manifest(MPI_Comm comm, const std::vector<const Dataset*>& mine) {
    const int size = comm::size_of(comm), rank = comm::rank_in(comm);
    const std::string local = encode_manifest(mine);
    int length = static_cast<int>(local.size());
    std::vector<int> lengths(static_cast<std::size_t>(size)), offsets(static_cast<std::size_t>(size));
    comm::check_mpi(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm), "MPI_Allgather(manifest)");
    int total = 0;
    for (int r = 0; r < size; ++r) {
        offsets[static_cast<std::size_t>(r)] = total;
        total += lengths[static_cast<std::size_t>(r)];
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    comm::check_mpi(
        MPI_Allgatherv(local.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, comm),
        "MPI_Allgatherv(manifest)");
    std::vector<ManifestEntry> entries;
    for (int r = 0; r < size; ++r) {
        auto part = decode_manifest(all.substr(static_cast<std::size_t>(offsets[static_cast<std::size_t>(r)]),
                                               static_cast<std::size_t>(lengths[static_cast<std::size_t>(r)])),
                                    r);
        if (r == rank) {
            for (std::size_t i = 0; i < part.size(); ++i) part[i].data = mine[i];
        }
        entries.insert(entries.end(), part.begin(), part.end());
    }
    return entries;
}

constexpr const char* kManifestPath = "manifest";

// Collective: the manifest of every rank's datasets, sorted, on rank 0 (empty elsewhere).
std::string manifest_text(MPI_Comm comm, const std::vector<Dataset>& mine) {
    std::string lines;
    for (const Dataset& d : mine) lines += manifest_line(d.path, d.type, d.shape) + '\n';
    const int size = comm::size_of(comm), rank = comm::rank_in(comm);
    int length = static_cast<int>(lines.size());
    std::vector<int> lengths(static_cast<std::size_t>(size)), offsets(static_cast<std::size_t>(size));
    comm::check_mpi(MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm), "MPI_Gather(manifest)");
    int total = 0;
    for (int r = 0; r < size; ++r) {
        offsets[static_cast<std::size_t>(r)] = total;
        total += lengths[static_cast<std::size_t>(r)];
    }
    std::string all(rank == 0 ? static_cast<std::size_t>(total) : 0, '\0');
    comm::check_mpi(
        MPI_Gatherv(lines.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0, comm),
        "MPI_Gatherv(manifest)");
    if (rank != 0) return "";
    std::vector<std::string> sorted;
    std::istringstream stream(all);
    for (std::string line; std::getline(stream, line);) sorted.push_back(line);
    std::sort(sorted.begin(), sorted.end());
    std::string text;
    for (const std::string& line : sorted) text += line + '\n';
    return text;
}

// Rank 0's attributes, for everyone: HDF5 needs the same metadata calls on every rank.
std::map<std::string, std::string> broadcast_attributes(MPI_Comm comm, const std::map<std::string, std::string>& mine) {
    std::string text;
    for (const auto& [name, value] : mine)
        text += std::to_string(name.size()) + ':' + name + std::to_string(value.size()) + ':' + value;
    text = comm::broadcast_text(comm, text);
    std::map<std::string, std::string> attributes;
    std::size_t at = 0;
    const auto next = [&]() {
        const std::size_t colon = text.find(':', at);
        const std::size_t size = std::stoull(text.substr(at, colon - at));
        std::string item = text.substr(colon + 1, size);
        at = colon + 1 + size;
        return item;
    };
    while (at < text.size()) {
        std::string name = next();
        attributes[name] = next();
    }
    return attributes;
}

// Why the last call failed: the system's errno if set, else HDF5's innermost cause.
std::string errno_text() { return errno != 0 ? std::string(": ") + std::strerror(errno) : hdf5_error_cause(); }

bool enough_space(const std::string& path, std::uint64_t bytes_needed) { return free_bytes_for(path) >= bytes_needed; }

// MPI-IO reports a short write without the system's reason; the file system says it.
std::string write_failure_cause(const std::string& path, std::uint64_t bytes_needed) {
    const std::string cause = space_problem(path, bytes_needed);
    return cause.empty() ? errno_text() : ": " + cause;
}

}  // namespace

std::string manifest_line(const std::string& path, ElementType type, const std::vector<std::uint64_t>& shape) {
    std::string dims;
    for (const std::uint64_t n : shape) dims += (dims.empty() ? "" : "x") + std::to_string(n);
    return path + "[" + (type == ElementType::text ? std::string("text") : dims) + "]";
}

bool fits_in_file(const std::string& path, long double bytes) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) return false;
    return bytes <= static_cast<long double>(status.st_size);
}

std::size_t element_size(ElementType type) {
    switch (type) {
        case ElementType::f32:
            return 4;
        case ElementType::f64:
        case ElementType::i64:
        case ElementType::u64:
            return 8;
        case ElementType::u8:
        case ElementType::text:
            return 1;
    }
    return 1;
}

std::uint64_t Dataset::element_count() const {
    std::uint64_t n = 1;
    for (std::uint64_t d : shape) n *= d;
    return n;
}

Dataset make_text_dataset(const std::string& path, const std::string& text) {
    Dataset d;
    d.path = path;
    d.type = ElementType::text;
    d.bytes.assign(text.begin(), text.end());
    return d;
}

void write_datasets_collectively(MPI_Comm comm, const std::string& path, const std::vector<Dataset>& mine,
                                 const std::map<std::string, std::string>& root_attributes) {
    silence_hdf5_errors();
    const int rank = comm::rank_in(comm);
    // Rank 0 adds /manifest to what it writes; the others' datasets are not copied.
    const Dataset listing = make_text_dataset(kManifestPath, manifest_text(comm, mine));
    std::vector<const Dataset*> written;
    written.reserve(mine.size() + 1);
    for (const Dataset& d : mine) written.push_back(&d);
    if (rank == 0) written.push_back(&listing);
    const std::vector<ManifestEntry> manifest = gather_manifest(comm, written);
    std::map<std::string, std::string> attributes = broadcast_attributes(comm, root_attributes);
    attributes["attributes_sha256"] = attributes_checksum(attributes);
    std::uint64_t total_bytes = 0;
    for (const ManifestEntry& e : manifest) {
        total_bytes += e.type == ElementType::text ? e.text_length : [&] {
            std::uint64_t n = element_size(e.type);
            for (std::uint64_t d : e.shape) n *= d;
            return n;
        }();
    }
    std::string error;
    // A parallel HDF5 file that fails part-way leaves the ranks in different collective
    // calls, so a full disk is found before writing: the data plus about 1 KiB of
    // metadata per dataset and a margin must fit.
    // The temporary is created exclusively by rank 0 under a fresh name (never a
    // planted link or an existing file), then opened by every rank.
    std::string tmp;
    if (rank == 0) {
        const std::uint64_t needed = total_bytes + 1024 * manifest.size() + 16384;
        if (!enough_space(path, needed)) {
            error = "cannot write " + path + write_failure_cause(path, needed);
        } else {
            try {
                tmp = create_temporary_beside(path);
            } catch (const std::exception& failure) {
                error = failure.what();
            }
        }
    }
    if (comm::agree_on_failure(comm, error)) comm::throw_agreed(comm, error);
    tmp = comm::broadcast_text(comm, tmp);
    {
        std::unique_ptr<H5Handle> file;
        std::vector<std::unique_ptr<H5Handle>> sets;
        // Metadata: every rank makes the same calls in the same order (HDF5's rule for
        // parallel files). A failure here is the same on every rank (e.g. a directory
        // that cannot be written).
        try {
            H5Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create file access properties");
            if (H5Pset_fapl_mpio(access.get(), comm, MPI_INFO_NULL) < 0) {
                throw std::runtime_error("cannot select the MPI-IO driver");
            }
            // Room for the whole file's checksum before HDF5's own bytes (io/file_seal.hpp).
            H5Handle creation(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "cannot create file creation properties");
            if (H5Pset_userblock(creation.get(), kSealBytes) < 0)
                throw std::runtime_error("cannot reserve a user block");
            errno = 0;
            const hid_t created = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, creation.get(), access.get());
            if (created < 0) throw std::runtime_error("cannot create " + tmp + write_failure_cause(tmp, 0));
            file = std::make_unique<H5Handle>(created, H5Fclose, "cannot create " + tmp);
            H5Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create link properties");
            H5Pset_create_intermediate_group(links.get(), 1);
            for (const ManifestEntry& e : manifest) {
                const std::string what = path + ": dataset " + e.path;
                std::unique_ptr<H5Handle> type;
                hid_t type_id;
                if (e.type == ElementType::text) {
                    type = std::make_unique<H5Handle>(string_type(e.text_length, what));
                    type_id = type->get();
                } else {
                    type_id = h5_file_type(e.type);
                }
                std::vector<hsize_t> dims(e.shape.begin(), e.shape.end());
                H5Handle space(e.type == ElementType::text
                                   ? H5Screate(H5S_SCALAR)
                                   : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                               H5Sclose, what + ": cannot create dataspace");
                auto set = std::make_unique<H5Handle>(H5Dcreate2(file->get(), e.path.c_str(), type_id, space.get(),
                                                                 links.get(), H5P_DEFAULT, H5P_DEFAULT),
                                                      H5Dclose, what + ": cannot create");
                write_string_attribute(set->get(), "sha256", e.sha256, what);
                sets.push_back(std::move(set));
            }
            for (const auto& [name, value] : attributes) write_string_attribute(file->get(), name, value, path);
        } catch (const std::exception& failure) {
            error = failure.what();
        }
        if (!comm::agree_on_failure(comm, error)) {
            // Raw data: each rank writes its own datasets independently.
            try {
                for (std::size_t i = 0; i < manifest.size(); ++i) {
                    const ManifestEntry& e = manifest[i];
                    if (e.owner != rank || e.data->bytes.empty()) continue;
                    errno = 0;
                    herr_t status;
                    if (e.type == ElementType::text) {
                        H5Handle type = string_type(e.text_length, path);
                        status =
                            H5Dwrite(sets[i]->get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, e.data->bytes.data());
                    } else {
                        status = H5Dwrite(sets[i]->get(), h5_memory_type(e.type), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                          e.data->bytes.data());
                    }
                    if (status < 0) {
                        throw std::runtime_error("cannot write " + path + " (dataset " + e.path + ")" +
                                                 write_failure_cause(path, total_bytes));
                    }
                }
            } catch (const std::exception& failure) {
                error = failure.what();
            }
            comm::agree_on_failure(comm, error);
        }
        // Closing flushes the metadata: collective, and the last chance for a full disk to show.
        sets.clear();
        if (file) {
            errno = 0;
            if (H5Fflush(file->get(), H5F_SCOPE_GLOBAL) < 0 && error.empty()) {
                error = "cannot write " + path + " (flush)" + write_failure_cause(path, total_bytes);
            }
            if (!file->close() && error.empty()) {
                error = "cannot write " + path + " (close)" + write_failure_cause(path, total_bytes);
            }
        }
    }
    if (rank == 0 && error.empty()) {
        try {
            seal_file(tmp, kDatasetsSeal, path);
            publish_temporary(tmp, path);
        } catch (const std::exception& failure) {
            error = failure.what();
        }
    }
    if (comm::agree_on_failure(comm, error)) {
        if (rank == 0) std::remove(tmp.c_str());
        comm::throw_agreed(comm, error);
    }
}

DatasetReader::DatasetReader(const std::string& path) : path_(path), file_(-1) {
    silence_hdf5_errors();
    if (::access(path.c_str(), R_OK) != 0) throw std::runtime_error(path + ": cannot be read" + errno_text());
    check_file_seal(path);  // before HDF5 parses anything
    const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
    if (is_hdf5 <= 0) throw std::runtime_error(path + ": not an HDF5 file");
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file_ < 0) throw std::runtime_error(path + ": cannot be opened; the file is truncated or damaged");
}

DatasetReader::~DatasetReader() {
    if (file_ >= 0) H5Fclose(static_cast<hid_t>(file_));
}

void DatasetReader::verify_attribute_checksum() const {
    const std::map<std::string, std::string> attributes = read_root_attributes(path_);
    const auto stored = attributes.find("attributes_sha256");
    if (stored == attributes.end()) throw std::runtime_error(path_ + ": has no attributes_sha256 checksum");
    if (stored->second != attributes_checksum(attributes)) {
        throw std::runtime_error(path_ + ": attribute checksum mismatch; the file is damaged");
    }
}

bool DatasetReader::has_attribute(const std::string& name) const {
    return H5Aexists(static_cast<hid_t>(file_), name.c_str()) > 0;
}

std::string DatasetReader::attribute(const std::string& name) const {
    return read_string_attribute(static_cast<hid_t>(file_), name, path_);
}

bool DatasetReader::has(const std::string& dataset_path) const {
    // Walk the path one link at a time: H5Lexists fails on a missing intermediate group.
    std::string prefix;
    std::istringstream parts(dataset_path);
    for (std::string part; std::getline(parts, part, '/');) {
        prefix += (prefix.empty() ? "" : "/") + part;
        if (H5Lexists(static_cast<hid_t>(file_), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    return !prefix.empty();
}

Dataset DatasetReader::read(const std::string& dataset_path) const {
    const std::string what = path_ + ": dataset " + dataset_path;
    if (!has(dataset_path)) throw std::runtime_error(path_ + ": missing dataset " + dataset_path);
    H5Handle set(H5Dopen2(static_cast<hid_t>(file_), dataset_path.c_str(), H5P_DEFAULT), H5Dclose,
                 what + ": cannot be opened");
    H5Handle type(H5Dget_type(set.get()), H5Tclose, what + ": unreadable type");
    H5Handle space(H5Dget_space(set.get()), H5Sclose, what + ": unreadable dataspace");
    Dataset d;
    d.path = dataset_path;
    const std::size_t size = H5Tget_size(type.get());
    if (!element_type_of_h5(type.get(), d.type)) throw std::runtime_error(what + ": unsupported element type");
    herr_t status;
    if (d.type == ElementType::text) {
        if (H5Sget_simple_extent_type(space.get()) != H5S_SCALAR)
            throw std::runtime_error(what + ": text is not a scalar");
        if (!fits_in_file(path_, static_cast<long double>(size))) {
            throw std::runtime_error(what + ": a text of " + std::to_string(size) +
                                     " bytes cannot be in this file; it is damaged");
        }
        d.bytes.resize(size);
        status = H5Dread(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, d.bytes.data());
        // Null-padded: the text ends at the first NUL, if any.
        d.bytes.erase(std::find(d.bytes.begin(), d.bytes.end(), 0), d.bytes.end());
    } else {
        const int rank = H5Sget_simple_extent_ndims(space.get());
        if (rank < 0 || rank > 8) throw std::runtime_error(what + ": unreadable dataspace");
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
        H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
        d.shape.assign(dims.begin(), dims.end());
        long double bytes = element_size(d.type);
        for (hsize_t n : dims) bytes *= static_cast<long double>(n);
        if (!fits_in_file(path_, bytes)) {
            throw std::runtime_error(what + ": its shape needs more bytes than the file holds; the file is damaged");
        }
        d.bytes.resize(d.element_count() * element_size(d.type));
        status = d.bytes.empty()
                     ? 0
                     : H5Dread(set.get(), h5_memory_type(d.type), H5S_ALL, H5S_ALL, H5P_DEFAULT, d.bytes.data());
    }
    if (status < 0) throw std::runtime_error(what + ": cannot be read; the file is truncated or damaged");
    if (H5Aexists(set.get(), "sha256") <= 0) throw std::runtime_error(what + ": has no sha256 checksum");
    if (read_string_attribute(set.get(), "sha256", what) != checksum(d)) {
        throw std::runtime_error(what + ": checksum mismatch; the file is damaged");
    }
    return d;
}

namespace {
// An HDF5 callback: no exception may cross the C library, so a failure returns -1.
herr_t collect_dataset(hid_t, const char* name, const H5O_info_t* info, void* paths) noexcept {
    try {
        if (info->type == H5O_TYPE_DATASET) static_cast<std::vector<std::string>*>(paths)->push_back(name);
        return 0;
    } catch (...) {
        return -1;
    }
}
}  // namespace

std::vector<std::string> DatasetReader::dataset_paths(const std::string& group) const {
    std::vector<std::string> paths;
    if (!group.empty() && !has(group)) return paths;
    H5Handle handle(H5Oopen(static_cast<hid_t>(file_), group.empty() ? "/" : group.c_str(), H5P_DEFAULT), H5Oclose,
                    path_ + ": group " + group + " cannot be opened");
    if (H5Ovisit2(handle.get(), H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &paths, H5O_INFO_BASIC) < 0) {
        throw std::runtime_error(path_ + ": cannot be read; the file is truncated or damaged");
    }
    for (std::string& p : paths) p = group.empty() ? p : group + "/" + p;
    std::sort(paths.begin(), paths.end());
    return paths;
}

std::map<std::string, Dataset> DatasetReader::read_all(bool manifest_required) const {
    std::map<std::string, Dataset> all;
    for (const std::string& p : dataset_paths()) all.emplace(p, read(p));
    const auto manifest = all.find(kManifestPath);
    if (manifest == all.end()) {
        if (manifest_required)
            throw std::runtime_error(path_ + ": has no manifest of its datasets; the file is damaged");
        return all;
    }
    std::vector<std::string> lines;
    for (const auto& [path, d] : all) {
        if (path != kManifestPath) lines.push_back(manifest_line(path, d.type, d.shape));
    }
    std::sort(lines.begin(), lines.end());  // as the writer sorts them
    std::string found;
    for (const std::string& line : lines) found += line + '\n';
    if (found != manifest->second.text()) {
        throw std::runtime_error(path_ + ": its datasets are not those its manifest lists; the file is damaged");
    }
    all.erase(manifest);
    return all;
}

}  // namespace sgnn::io
