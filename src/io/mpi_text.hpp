// Rank 0's text on every rank of a communicator, private to io/ (collective writers
// agree on names, attributes and errors this way).
#pragma once

#include <mpi.h>

#include <string>

namespace sgnn::io {

inline std::string broadcast_text(MPI_Comm comm, std::string text) {
    int length = static_cast<int>(text.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, comm);
    text.resize(static_cast<std::size_t>(length));
    MPI_Bcast(text.data(), length, MPI_CHAR, 0, comm);
    return text;
}

}  // namespace sgnn::io
