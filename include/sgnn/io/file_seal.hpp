// A whole file's SHA-256 in its first bytes, checked before HDF5 parses the file.
//
// HDF5 can crash on damaged metadata (a corrupt attribute table segfaults libhdf5
// inside H5Oattr_iterate), so a damaged sgnn file must be refused by sgnn first; the
// per-dataset checksums come too late for that. HDF5 leaves a file's first
// kSealBytes bytes (the user block, H5Pset_userblock) to the application, and h5py
// and every HDF5 tool read such files as any other. sgnn writes "<magic><hex>\n" there:
// the SHA-256 of every byte after the block.
#pragma once

#include <cstddef>
#include <string>

namespace sgnn::io {

inline constexpr std::size_t kSealBytes = 512;

// Magics: model.h5 (io/model_file.hpp), and files of write_datasets_collectively
// (checkpoints, posterior draws).
inline constexpr const char* kModelSeal = "sgnn-model-sha256 ";
inline constexpr const char* kDatasetsSeal = "sgnn-file-sha256 ";

// Writes the seal into `file`, created with a user block of kSealBytes; `what` names
// the file in errors. Throws std::runtime_error.
void seal_file(const std::string& file, const char* magic, const std::string& what);

// Throws std::runtime_error naming the file when its bytes are not the ones sealed
// (under either magic), or its seal is damaged. A file with HDF5's signature at byte 0
// (no user block: written by an sgnn from before the seal) is accepted unchecked, and
// so is a file that is no HDF5 file after a user block either (HDF5 then says what it
// is not).
void check_file_seal(const std::string& path);

}  // namespace sgnn::io
