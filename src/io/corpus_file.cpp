#include "sgnn/io/corpus_file.hpp"

#include "h5_handle.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/sha256.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/statvfs.h>

namespace sgnn::io {
namespace {

std::string broadcast_text(MPI_Comm comm, std::string text) {
    int length = static_cast<int>(text.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, comm);
    text.resize(static_cast<std::size_t>(length));
    MPI_Bcast(text.data(), length, MPI_CHAR, 0, comm);
    return text;
}

// Rank 0's failure on every rank, or none: rank 0 reports it, the others' copies are
// echoes (PeerError).
void agree(MPI_Comm comm, const std::string& local_error) {
    int failed = local_error.empty() ? 0 : 1;
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm);
    if (!failed) return;
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    const std::string message = broadcast_text(comm, local_error.empty() ? "another rank failed writing" : local_error);
    if (rank == 0) throw std::runtime_error(message);
    throw PeerError(message);
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
    m.tmp = m.path + ".tmp";
    m.columns = std::move(columns);
    m.rows = rows;
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    std::string error;
    if (rank == 0) {
        std::uint64_t bytes = 65536;
        for (const CorpusColumn& c : m.columns) bytes += rows * std::max<std::uint64_t>(1, c.width) * element_size(c.type);
        const auto slash = m.path.find_last_of('/');
        const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : m.path.substr(0, slash);
        struct statvfs fs {};
        if (::statvfs(folder.c_str(), &fs) != 0) {
            error = "cannot write " + m.path + ": " + std::strerror(errno);
        } else if (fs.f_flag & ST_RDONLY) {
            error = "cannot write " + m.path + ": Read-only file system";
        } else if (static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < bytes) {
            error = "cannot write " + m.path + ": No space left on device (" +
                    std::to_string(static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize / 1048576) + " MiB free in " +
                    folder + ", the corpus needs " + std::to_string(bytes / 1048576) + " MiB)";
        }
    }
    agree(comm, error);
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
            m.sets.push_back(std::make_unique<H5Handle>(
                H5Dcreate2(m.file->get(), c.name.c_str(), h5_file_type(c.type), space.get(), H5P_DEFAULT,
                           creation.get(), H5P_DEFAULT),
                H5Dclose, m.path + ": cannot create column " + c.name));
        }
        m.collective = std::make_unique<H5Handle>(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "cannot create properties");
        H5Pset_dxpl_mpio(m.collective->get(), H5FD_MPIO_COLLECTIVE);
    } catch (const std::exception& failure) {
        error = failure.what();
    }
    // Creation is the same on every rank, so a failure here is too (a bad directory).
    agree(comm, error);
}

CorpusWriter::~CorpusWriter() {
    if (!impl_->file) return;
    // Not committed (an error elsewhere): the temporary goes, the file is not created.
    impl_->sets.clear();
    impl_->collective.reset();
    impl_->file.reset();
    int rank = 0;
    MPI_Comm_rank(impl_->comm, &rank);
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
            memory = std::make_unique<H5Handle>(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr),
                                                H5Sclose, m.path + ": dataspace");
        }
        if (H5Dwrite(set, h5_memory_type(c.type), memory->get(), file_space.get(), m.collective->get(), columns[i]) < 0) {
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
    int rank = 0;
    MPI_Comm_rank(m.comm, &rank);
    for (const auto& [name, value] : attributes) {
        write_string_attribute(m.file->get(), name, broadcast_text(m.comm, value), m.path);
    }
    for (const auto& [name, local] : texts) {
        const std::string value = broadcast_text(m.comm, local);
        H5Handle type = string_type(value.size(), m.path);
        H5Handle space(H5Screate(H5S_SCALAR), H5Sclose, m.path);
        H5Handle set(H5Dcreate2(m.file->get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT),
                     H5Dclose, m.path + ": cannot create " + name);
        write_string_attribute(set.get(), "sha256", sha256_hex(value), m.path);
        if (rank == 0 && !value.empty() && H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, value.c_str()) < 0) {
            throw std::runtime_error("cannot write " + m.path + " (" + name + ")" + hdf5_error_cause());
        }
    }
    m.sets.clear();
    m.collective.reset();
    const bool closed = m.file->close();
    m.file.reset();
    std::string error = closed ? "" : "cannot write " + m.path + " (close)" + hdf5_error_cause();
    if (rank == 0 && error.empty() && std::rename(m.tmp.c_str(), m.path.c_str()) != 0) {
        error = "cannot write " + m.path + ": " + std::strerror(errno);
    }
    agree(m.comm, error);
}

Dataset read_rows(const std::string& path, const std::string& column, std::uint64_t first, std::uint64_t count) {
    silence_hdf5_errors();
    H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                  path + ": cannot be opened; the file is missing, truncated or not HDF5");
    H5Handle set(H5Dopen2(file.get(), column.c_str(), H5P_DEFAULT), H5Dclose, path + ": no column " + column);
    H5Handle type(H5Dget_type(set.get()), H5Tclose, path + ": unreadable column " + column);
    H5Handle space(H5Dget_space(set.get()), H5Sclose, path + ": unreadable column " + column);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 1 || rank > 2) throw std::runtime_error(path + ": column " + column + " is not 1-D or 2-D");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    if (first + count > dims[0]) {
        throw std::runtime_error(path + ": column " + column + " has " + std::to_string(dims[0]) + " rows, not " +
                                 std::to_string(first + count));
    }
    Dataset d;
    d.path = column;
    const std::size_t size = H5Tget_size(type.get());
    switch (H5Tget_class(type.get())) {
        case H5T_FLOAT: d.type = size == 4 ? ElementType::f32 : ElementType::f64; break;
        case H5T_INTEGER:
            d.type = size == 1 ? ElementType::u8
                               : (H5Tget_sign(type.get()) == H5T_SGN_NONE ? ElementType::u64 : ElementType::i64);
            break;
        default: throw std::runtime_error(path + ": column " + column + " has an unsupported type");
    }
    std::vector<hsize_t> offset = {first}, extent = {count};
    d.shape = {count};
    if (rank == 2) {
        offset.push_back(0);
        extent.push_back(dims[1]);
        d.shape.push_back(dims[1]);
    }
    d.bytes.resize(d.element_count() * element_size(d.type));
    if (count == 0) return d;
    H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(), nullptr);
    H5Handle memory(H5Screate_simple(rank, extent.data(), nullptr), H5Sclose, path + ": dataspace");
    if (H5Dread(set.get(), h5_memory_type(d.type), memory.get(), space.get(), H5P_DEFAULT, d.bytes.data()) < 0) {
        throw std::runtime_error(path + ": column " + column + " cannot be read; the file is truncated or damaged");
    }
    return d;
}

}  // namespace sgnn::io
