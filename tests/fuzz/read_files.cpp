// Reads one file the way sgnn does, built with AddressSanitizer: the fuzz test
// (tests/e2e/test_fuzz.py) runs it on every damaged variant of every kind of file sgnn
// reads, so that an out-of-bounds read or a use of freed memory in a reader fails
// the test even where the real command would have carried on.
//
//   sgnn_read_fuzz model FILE
//   sgnn_read_fuzz corpus FILE N_INPUTS N_TARGETS     (as a trainer reads its shard)
//   sgnn_read_fuzz bank FILE
//   sgnn_read_fuzz datasets FILE                      (every dataset, checksums verified)
//   sgnn_read_fuzz csv FILE DAYS CHANNELS
//
// Exit 0 with a SHA-256 of everything read on standard output (the fuzz test compares
// it with the undamaged file's), or exit 2 with one line on standard error; anything
// else, a sanitizer report above all, is a failure.
#include "sgnn/io/bank_file.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/io/model_file.hpp"
#include "sgnn/io/observation_csv.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/text.hpp"

#include <cstdio>
#include <string>
#include <vector>

using namespace sgnn;

namespace {

template <typename T>
void add(io::Sha256& hash, const std::vector<T>& values) {
    hash.update(values.data(), values.size() * sizeof(T));
}

void add(io::Sha256& hash, const std::string& text) { hash.update(text.data(), text.size()); }

std::string read(const std::vector<std::string>& args) {
    const std::string& kind = args.at(0);
    const std::string& path = args.at(1);
    io::Sha256 hash;
    if (kind == "model") {
        const io::ModelFile model = io::read_model_file(path);
        for (const auto* arrays : {&model.parameters, &model.normalization}) {
            for (const io::NamedArray& array : *arrays) {
                add(hash, array.name);
                add(hash, array.shape);
                add(hash, array.values);
            }
        }
        for (const auto& [name, value] : model.attributes) add(hash, name + "=" + value);
    } else if (kind == "corpus") {
        const io::CorpusHeader header(path, "sgnn-corpus", "write one with sgnn simulate");
        const std::uint64_t rows = header.count("samples", 1, std::uint64_t(1) << 50);
        const auto n_in = static_cast<std::uint64_t>(std::stoull(args.at(2)));
        const auto n_t = static_cast<std::uint64_t>(std::stoull(args.at(3)));
        using io::ElementType;
        add(hash, io::read_rows(path, "inputs", ElementType::f32, n_in, 0, rows).bytes);
        add(hash, io::read_rows(path, "targets", ElementType::f32, n_t, 0, rows).bytes);
        add(hash, io::read_rows(path, "labels", ElementType::i64, 0, 0, rows).bytes);
        add(hash, io::read_rows(path, "indices", ElementType::u64, 0, 0, rows).bytes);
        add(hash, io::read_rows(path, "valid", ElementType::u8, 0, 0, rows).bytes);
    } else if (kind == "bank") {
        const io::MemoryBank bank = io::read_memory_bank(path);
        add(hash, bank.embeddings);
        add(hash, bank.parameters);
        add(hash, bank.labels);
        add(hash, bank.valid);
        add(hash, join_list(bank.parameter_names) + ";" + join_list(bank.class_names));
    } else if (kind == "datasets") {
        const io::DatasetReader reader(path);
        for (const auto& [name, dataset] : reader.read_all()) {
            add(hash, name);
            add(hash, dataset.bytes);
        }
    } else if (kind == "csv") {
        add(hash, io::read_observation_csv(path, std::stoi(args.at(2)), std::stoi(args.at(3)), "log1p", false));
    } else {
        throw std::invalid_argument("unknown kind " + kind);
    }
    return hash.hex_digest();
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: sgnn_read_fuzz model|corpus|bank|datasets|csv FILE [...]\n");
        return 64;
    }
    try {
        std::printf("%s\n", read(args).c_str());
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "sgnn: error: %s\n", error.what());
        return 2;
    }
}
