// corpus.h5: a synthetic corpus, one row per sample index, written by every rank at
// once with collective hyperslab writes through the MPI-IO driver.
//
//   /<column>            one dataset per column: (rows,) or (rows, width), e.g. inputs,
//                        targets, parameters, labels, indices, valid
//   /checksums/<column>  uint8 (blocks, 32): the SHA-256 of each block of
//                        checksum_block_rows rows of the column (the last block shorter)
//   /config              the effective configuration (string, with a sha256 attribute)
//   root attributes      strings (format, format_version, column names, counts, ...),
//                        checksum_block_rows, and attributes_sha256 over all the others
//
// Readers verify every block they read and the attributes, so a damaged file is an
// error naming the file, never silently different data. The layout sgnn writes is
// documented in docs/file-formats.md.
#pragma once

#include "sgnn/io/h5_datasets.hpp"

#include <mpi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sgnn::io {

struct CorpusColumn {
    std::string name;
    ElementType type;     // not text
    std::uint64_t width;  // values per row; 0: a 1-D column
};

class CorpusWriter {
public:
    // Collective over `comm`: creates "<path>.tmp" with `rows` rows of every column,
    // after checking that the file system has room for it.
    CorpusWriter(MPI_Comm comm, std::string path, std::uint64_t rows, std::vector<CorpusColumn> columns);
    ~CorpusWriter();
    CorpusWriter(const CorpusWriter&) = delete;
    CorpusWriter& operator=(const CorpusWriter&) = delete;

    // Collective: this rank's rows [first, first + count) of every column, row-major,
    // in column order (count may be 0 on some ranks). Every rank calls it equally often.
    void write_rows(std::uint64_t first, std::uint64_t count, const std::vector<const void*>& columns);
    // Collective: writes rank 0's attributes and texts, closes the file, checksums
    // every column (rank 0 reads the file back once) and renames it over `path`.
    void commit(const std::map<std::string, std::string>& attributes, const std::map<std::string, std::string>& texts);

    double write_seconds() const { return write_seconds_; }  // in write_rows, this rank
    double bytes_written() const { return bytes_; }          // by this rank

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    double write_seconds_ = 0.0;
    double bytes_ = 0.0;
};

// Rows per checksummed block of a column.
constexpr std::uint64_t kChecksumBlockRows = 4096;

// The root attributes of a corpus-like file (`format` is "sgnn-corpus" or "sgnn-bank"),
// verified against attributes_sha256. Errors are std::runtime_error naming the file.
class CorpusHeader {
public:
    CorpusHeader(const std::string& path, const std::string& format, const std::string& made_by);
    const std::string& path() const { return path_; }
    std::string text(const std::string& name) const;  // throws if missing
    // A whole-number attribute in [min, max]; throws naming the attribute otherwise.
    std::uint64_t count(const std::string& name, std::uint64_t min, std::uint64_t max) const;

private:
    std::string path_;
    std::map<std::string, std::string> attributes_;
};

// Rows [first, first + count) of a column of a corpus-like file, checked before use:
// the column must hold `type` with `width` values per row (0: a 1-D column) and at
// least first + count rows, and every block of rows read must match its checksum.
Dataset read_rows(const std::string& path, const std::string& column, ElementType type, std::uint64_t width,
                  std::uint64_t first, std::uint64_t count);

// The root attributes of an HDF5 file, and their checksum as stored in
// attributes_sha256 (which is left out of it).
std::map<std::string, std::string> read_root_attributes(const std::string& path);
std::string attributes_checksum(const std::map<std::string, std::string>& attributes);

}  // namespace sgnn::io
