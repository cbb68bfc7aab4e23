#include "sgnn/io/corpus_file.hpp"

#include "h5_handle.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/comm/mpi.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace sgnn::io {
namespace {

// Reads rows [first, first + count) of a 1-D or 2-D dataset in its native type.
void read_row_range(hid_t set, hid_t memory_type, int rank, hsize_t width, std::uint64_t first, std::uint64_t count,
                    void* into, const std::string& what) {
    if (count == 0) return;
    H5Handle space(H5Dget_space(set), H5Sclose, what + ": unreadable dataspace");
    std::vector<hsize_t> offset = {first}, extent = {count};
    if (rank == 2) {
        offset.push_back(0);
        extent.push_back(width);
    }
    H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(), nullptr);
    H5Handle memory(H5Screate_simple(rank, extent.data(), nullptr), H5Sclose, what + ": dataspace");
    if (H5Dread(set, memory_type, memory.get(), space.get(), H5P_DEFAULT, into) < 0) {
        throw std::runtime_error(what + " cannot be read; the file is truncated or damaged");
    }
}

// Writes /checksums/<column> for every column of the closed file `tmp` (serially).
void write_block_checksums(const std::string& tmp, const std::string& path, const std::vector<CorpusColumn>& columns,
                           std::uint64_t rows) {
    H5Handle file(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose,
                  "cannot reopen " + tmp + hdf5_error_cause());
    H5Handle group(H5Gcreate2(file.get(), "checksums", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                   "cannot write " + path + " (checksums)" + hdf5_error_cause());
    const std::uint64_t blocks = (rows + kChecksumBlockRows - 1) / kChecksumBlockRows;
    for (const CorpusColumn& c : columns) {
        const std::string what = path + ": column " + c.name;
        H5Handle set(H5Dopen2(file.get(), c.name.c_str(), H5P_DEFAULT), H5Dclose, what + ": cannot be reopened");
        const std::uint64_t row_bytes = std::max<std::uint64_t>(1, c.width) * element_size(c.type);
        std::vector<unsigned char> buffer(kChecksumBlockRows * row_bytes);
        std::string digests;
        for (std::uint64_t b = 0; b < blocks; ++b) {
            const std::uint64_t first = b * kChecksumBlockRows, n = std::min(kChecksumBlockRows, rows - first);
            read_row_range(set.get(), h5_memory_type(c.type), c.width > 0 ? 2 : 1, c.width, first, n, buffer.data(),
                           what);
            Sha256 hash;
            hash.update(buffer.data(), n * row_bytes);
            digests += hash.raw_digest();
        }
        const hsize_t dims[2] = {blocks, 32};
        H5Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose, what + ": checksum dataspace");
        H5Handle sums(
            H5Dcreate2(group.get(), c.name.c_str(), H5T_STD_U8LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            H5Dclose, "cannot write " + path + " (checksums of " + c.name + ")" + hdf5_error_cause());
        if (blocks > 0 && H5Dwrite(sums.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, digests.data()) < 0) {
            throw std::runtime_error("cannot write " + path + " (checksums of " + c.name + ")" + hdf5_error_cause());
        }
    }
    if (!file.close()) throw std::runtime_error("cannot write " + path + " (close)" + hdf5_error_cause());
}

}  // namespace

struct CorpusWriter::Impl {
    MPI_Comm comm;
    std::string path, tmp;
    std::vector<CorpusColumn> columns;
    std::uint64_t rows;
    std::unique_ptr<H5Handle> file;
    std::vector<std::unique_ptr<H5Handle>> sets;
    std::unique_ptr<H5Handle> collective;  // transfer properties
};

CorpusWriter::CorpusWriter(MPI_Comm comm, std::string path, std::uint64_t rows, std::vector<CorpusColumn> columns)
    : impl_(std::make_unique<Impl>()) {
    silence_hdf5_errors();
    Impl& m = *impl_;
    m.comm = comm;
    m.path = std::move(path);
    m.columns = std::move(columns);
    m.rows = rows;
    const int rank = comm::rank_in(comm);
    std::string error;
    if (rank == 0) {
        std::uint64_t bytes = 65536;
        for (const CorpusColumn& c : m.columns)
            bytes += rows * std::max<std::uint64_t>(1, c.width) * element_size(c.type);
        if (const std::string problem = space_problem(m.path, bytes); !problem.empty()) {
            error = "cannot write " + m.path + ": " + problem;
        }
    }
    if (rank == 0 && error.empty()) {
        try {
            m.tmp = create_temporary_beside(m.path);
        } catch (const std::exception& failure) {
            error = failure.what();
        }
    }
    comm::throw_if_any_failed(comm, error);
    m.tmp = comm::broadcast_text(comm, m.tmp);
    try {
        H5Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create file access properties");
        H5Pset_fapl_mpio(access.get(), comm, MPI_INFO_NULL);
        m.file = std::make_unique<H5Handle>(H5Fcreate(m.tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
                                            H5Fclose, "cannot create " + m.tmp + hdf5_error_cause());
        // Every row gets written, so HDF5 need not write fill values first (parallel
        // files allocate space at creation and would otherwise fill it).
        H5Handle creation(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create dataset properties");
        H5Pset_fill_time(creation.get(), H5D_FILL_TIME_NEVER);
        for (const CorpusColumn& c : m.columns) {
            std::vector<hsize_t> dims = {rows};
            if (c.width > 0) dims.push_back(c.width);
            H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                           m.path + ": cannot create the dataspace of " + c.name);
            m.sets.push_back(
                std::make_unique<H5Handle>(H5Dcreate2(m.file->get(), c.name.c_str(), h5_file_type(c.type), space.get(),
                                                      H5P_DEFAULT, creation.get(), H5P_DEFAULT),
                                           H5Dclose, m.path + ": cannot create column " + c.name));
        }
        m.collective = std::make_unique<H5Handle>(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "cannot create properties");
        H5Pset_dxpl_mpio(m.collective->get(), H5FD_MPIO_COLLECTIVE);
    } catch (const std::exception& failure) {
        error = failure.what();
    }
    // Creation is the same on every rank, so a failure here is too (a bad directory).
    try {
        comm::throw_if_any_failed(comm, error);
    } catch (...) {
        m.sets.clear();
        m.collective.reset();
        m.file.reset();
        if (rank == 0) std::remove(m.tmp.c_str());
        throw;
    }
}

CorpusWriter::~CorpusWriter() {
    if (!impl_->file) return;
    // Not committed (an error elsewhere): the temporary goes, the file is not created.
    impl_->sets.clear();
    impl_->collective.reset();
    impl_->file.reset();
    int rank = 0;
    comm::report_mpi(MPI_Comm_rank(impl_->comm, &rank), "MPI_Comm_rank(corpus writer)");
    if (rank == 0) std::remove(impl_->tmp.c_str());
}

void CorpusWriter::write_rows(std::uint64_t first, std::uint64_t count, const std::vector<const void*>& columns) {
    Impl& m = *impl_;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < m.columns.size(); ++i) {
        const CorpusColumn& c = m.columns[i];
        const hid_t set = m.sets[i]->get();
        H5Handle file_space(H5Dget_space(set), H5Sclose, m.path + ": dataspace of " + c.name);
        std::vector<hsize_t> offset = {first}, extent = {count};
        if (c.width > 0) {
            offset.push_back(0);
            extent.push_back(c.width);
        }
        std::unique_ptr<H5Handle> memory;
        if (count == 0) {
            H5Sselect_none(file_space.get());
            memory = std::make_unique<H5Handle>(H5Scopy(file_space.get()), H5Sclose, m.path + ": dataspace");
            H5Sselect_none(memory->get());
        } else {
            H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(), nullptr);
            memory =
                std::make_unique<H5Handle>(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr),
                                           H5Sclose, m.path + ": dataspace");
        }
        if (H5Dwrite(set, h5_memory_type(c.type), memory->get(), file_space.get(), m.collective->get(), columns[i]) <
            0) {
            throw std::runtime_error("cannot write " + m.path + " (column " + c.name + ", rows " +
                                     std::to_string(first) + "+" + std::to_string(count) + ")" + hdf5_error_cause());
        }
        bytes_ += static_cast<double>(count * std::max<std::uint64_t>(1, c.width) * element_size(c.type));
    }
    write_seconds_ += seconds_since(start);
}

void CorpusWriter::commit(const std::map<std::string, std::string>& attributes,
                          const std::map<std::string, std::string>& texts) {
    Impl& m = *impl_;
    const int rank = comm::rank_in(m.comm);
    // Rank 0's attributes on every rank, with the block size and their own checksum.
    std::map<std::string, std::string> all;
    for (const auto& [name, value] : attributes) all[name] = comm::broadcast_text(m.comm, value);
    all["checksum_block_rows"] = std::to_string(kChecksumBlockRows);
    all["attributes_sha256"] = attributes_checksum(all);
    for (const auto& [name, value] : all) write_string_attribute(m.file->get(), name, value, m.path);
    for (const auto& [name, local] : texts) {
        const std::string value = comm::broadcast_text(m.comm, local);
        H5Handle type = string_type(value.size(), m.path);
        H5Handle space(H5Screate(H5S_SCALAR), H5Sclose, m.path);
        H5Handle set(
            H5Dcreate2(m.file->get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            H5Dclose, m.path + ": cannot create " + name);
        write_string_attribute(set.get(), "sha256", sha256_hex(value), m.path);
        if (rank == 0 && !value.empty() &&
            H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, value.c_str()) < 0) {
            throw std::runtime_error("cannot write " + m.path + " (" + name + ")" + hdf5_error_cause());
        }
    }
    m.sets.clear();
    m.collective.reset();
    const bool closed = m.file->close();
    m.file.reset();
    std::string error = closed ? "" : "cannot write " + m.path + " (close)" + hdf5_error_cause();
    if (rank == 0 && error.empty()) {
        try {
            write_block_checksums(m.tmp, m.path, m.columns, m.rows);
        } catch (const std::exception& failure) {
            error = failure.what();
        }
    }
    if (rank == 0 && !error.empty()) std::remove(m.tmp.c_str());
    if (rank == 0 && error.empty()) {
        try {
            publish_temporary(m.tmp, m.path);
        } catch (const std::exception& failure) {
            error = failure.what();
        }
    }
    comm::throw_if_any_failed(m.comm, error);
}

std::map<std::string, std::string> read_root_attributes(const std::string& path) {
    silence_hdf5_errors();
    if (H5Fis_hdf5(path.c_str()) <= 0) throw std::runtime_error(path + ": not an HDF5 file");
    H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                  path + ": cannot be opened; the file is truncated or damaged");
    std::vector<std::string> names;
    hsize_t index = 0;
    // An HDF5 callback: it only collects names, and no exception crosses the C library.
    const herr_t listed = H5Aiterate2(
        file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, &index,
        [](hid_t, const char* name, const H5A_info_t*, void* data) noexcept -> herr_t {
            try {
                static_cast<std::vector<std::string>*>(data)->push_back(name);
                return 0;
            } catch (...) {
                return -1;
            }
        },
        &names);
    if (listed < 0) throw std::runtime_error(path + ": its attributes cannot be read; the file is damaged");
    std::map<std::string, std::string> attributes;
    for (const std::string& name : names) attributes[name] = read_string_attribute(file.get(), name, path);
    return attributes;
}

std::string attributes_checksum(const std::map<std::string, std::string>& attributes) {
    Sha256 hash;
    for (const auto& [name, value] : attributes) {
        if (name == "attributes_sha256") continue;
        const std::string item = std::to_string(name.size()) + ':' + name + std::to_string(value.size()) + ':' + value;
        hash.update(item.data(), item.size());
    }
    return hash.hex_digest();
}

CorpusHeader::CorpusHeader(const std::string& path, const std::string& format, const std::string& made_by)
    : path_(path), attributes_(read_root_attributes(path)) {
    const auto found = attributes_.find("format");
    if (found == attributes_.end() || found->second != format) {
        throw std::runtime_error(path + ": not an " + format + " file (" + made_by + ")");
    }
    const auto stored = attributes_.find("attributes_sha256");
    if (stored == attributes_.end()) {
        throw std::runtime_error(path + ": has no checksums (written by an sgnn before 0.2, or damaged); " + made_by +
                                 " again");
    }
    if (stored->second != attributes_checksum(attributes_)) {
        throw std::runtime_error(path + ": attribute checksum mismatch; the file is damaged");
    }
}

std::string CorpusHeader::text(const std::string& name) const {
    const auto it = attributes_.find(name);
    if (it == attributes_.end()) throw std::runtime_error(path_ + ": no attribute " + name);
    return it->second;
}

std::uint64_t CorpusHeader::count(const std::string& name, std::uint64_t min, std::uint64_t max) const {
    const std::string value = text(name);
    double number = 0.0;
    if (!parse_decimal(value, number) || std::floor(number) != number || number < static_cast<double>(min) ||
        number > static_cast<double>(max)) {
        throw std::runtime_error(path_ + ": attribute " + name + " = '" + printable(value) +
                                 "' is not a whole number in [" + std::to_string(min) + ", " + std::to_string(max) +
                                 "]");
    }
    return static_cast<std::uint64_t>(number);
}

Dataset read_rows(const std::string& path, const std::string& column, ElementType type, std::uint64_t width,
                  std::uint64_t first, std::uint64_t count) {
    silence_hdf5_errors();
    const std::string what = path + ": column " + column;
    H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                  path + ": cannot be opened; the file is missing, truncated or not HDF5");
    if (H5Lexists(file.get(), column.c_str(), H5P_DEFAULT) <= 0)
        throw std::runtime_error(path + ": no column " + column);
    H5Handle set(H5Dopen2(file.get(), column.c_str(), H5P_DEFAULT), H5Dclose, what + ": cannot be opened");
    H5Handle stored_type(H5Dget_type(set.get()), H5Tclose, what + ": unreadable type");
    ElementType stored = ElementType::text;
    if (!element_type_of_h5(stored_type.get(), stored) || stored != type) {
        throw std::runtime_error(what + " is not " + element_type_name(type) + " as sgnn writes it");
    }
    H5Handle space(H5Dget_space(set.get()), H5Sclose, what + ": unreadable dataspace");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    const int expected_rank = width > 0 ? 2 : 1;
    hsize_t dims[2] = {0, 0};
    if (rank != expected_rank || H5Sget_simple_extent_dims(space.get(), dims, nullptr) != rank ||
        (width > 0 && dims[1] != width)) {
        throw std::runtime_error(what + " should have shape (rows" + (width > 0 ? ", " + std::to_string(width) : "") +
                                 "); the file does not match its attributes");
    }
    const std::uint64_t rows = dims[0];
    if (count > rows || first > rows - count) {
        throw std::runtime_error(what + " has " + std::to_string(rows) + " rows, not " + std::to_string(first + count));
    }
    const std::uint64_t row_bytes = std::max<std::uint64_t>(1, width) * element_size(type);
    if (!fits_in_file(path, static_cast<long double>(rows) * row_bytes)) {
        throw std::runtime_error(what + ": its shape needs more bytes than the file holds; the file is truncated");
    }
    // The checksummed blocks that cover the rows asked for.
    const std::string sums_path = "checksums/" + column;
    if (H5Lexists(file.get(), "checksums", H5P_DEFAULT) <= 0 ||
        H5Lexists(file.get(), sums_path.c_str(), H5P_DEFAULT) <= 0) {
        throw std::runtime_error(what + " has no checksums (written by an sgnn before 0.2, or damaged)");
    }
    const std::uint64_t blocks = (rows + kChecksumBlockRows - 1) / kChecksumBlockRows;
    H5Handle sums(H5Dopen2(file.get(), sums_path.c_str(), H5P_DEFAULT), H5Dclose,
                  what + ": checksums cannot be opened");
    {
        H5Handle sums_type(H5Dget_type(sums.get()), H5Tclose, what + ": unreadable checksums");
        H5Handle sums_space(H5Dget_space(sums.get()), H5Sclose, what + ": unreadable checksums");
        ElementType sums_element = ElementType::text;
        hsize_t sums_dims[2] = {0, 0};
        if (!element_type_of_h5(sums_type.get(), sums_element) || sums_element != ElementType::u8 ||
            H5Sget_simple_extent_ndims(sums_space.get()) != 2 ||
            H5Sget_simple_extent_dims(sums_space.get(), sums_dims, nullptr) != 2 || sums_dims[0] != blocks ||
            sums_dims[1] != 32) {
            throw std::runtime_error(what + ": its checksums do not match its shape; the file is damaged");
        }
    }
    Dataset d;
    d.path = column;
    d.type = type;
    d.shape = {count};
    if (width > 0) d.shape.push_back(width);
    if (count == 0) return d;
    const std::uint64_t first_block = first / kChecksumBlockRows, last_block = (first + count - 1) / kChecksumBlockRows;
    const std::uint64_t block_start = first_block * kChecksumBlockRows;
    const std::uint64_t block_rows = std::min(rows, (last_block + 1) * kChecksumBlockRows) - block_start;
    std::string digests((last_block - first_block + 1) * 32, '\0');
    read_row_range(sums.get(), H5T_NATIVE_UINT8, 2, 32, first_block, last_block - first_block + 1, digests.data(),
                   what + " (checksums)");
    d.bytes.resize(block_rows * row_bytes);
    read_row_range(set.get(), h5_memory_type(type), expected_rank, width, block_start, block_rows, d.bytes.data(),
                   what);
    for (std::uint64_t b = 0; b <= last_block - first_block; ++b) {
        const std::uint64_t start = b * kChecksumBlockRows, n = std::min(kChecksumBlockRows, block_rows - start);
        Sha256 hash;
        hash.update(d.bytes.data() + start * row_bytes, n * row_bytes);
        if (hash.raw_digest() != digests.substr(b * 32, 32)) {
            throw std::runtime_error(what + ": checksum mismatch in rows " + std::to_string(block_start + start) +
                                     ".." + std::to_string(block_start + start + n - 1) + "; the file is damaged");
        }
    }
    // Keep just the rows asked for.
    const std::uint64_t skip = (first - block_start) * row_bytes;
    d.bytes.erase(d.bytes.begin() + static_cast<long>(skip + count * row_bytes), d.bytes.end());
    d.bytes.erase(d.bytes.begin(), d.bytes.begin() + static_cast<long>(skip));
    return d;
}

}  // namespace sgnn::io
