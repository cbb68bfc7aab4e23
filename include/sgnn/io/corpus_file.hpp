// corpus.h5: a synthetic corpus, one row per sample index, written by every rank at
// once with collective hyperslab writes through the MPI-IO driver.
//
//   /<column>          one dataset per column: (rows,) or (rows, width), e.g. inputs,
//                      targets, parameters, labels, indices, valid
//   /config            the effective configuration (string, with a sha256 attribute)
//   root attributes    strings (format, format_version, column names, counts, ...)
//
// The layout sgnn writes is documented in docs/file-formats.md.
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
    // Collective: writes rank 0's attributes and texts, closes the file and renames it
    // over `path`.
    void commit(const std::map<std::string, std::string>& attributes, const std::map<std::string, std::string>& texts);

    double write_seconds() const { return write_seconds_; }  // in write_rows, this rank
    double bytes_written() const { return bytes_; }           // by this rank

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    double write_seconds_ = 0.0;
    double bytes_ = 0.0;
};

// Rows [first, first + count) of a column of a corpus (or any 1-D/2-D dataset).
Dataset read_rows(const std::string& path, const std::string& column, std::uint64_t first, std::uint64_t count);

}  // namespace sgnn::io
