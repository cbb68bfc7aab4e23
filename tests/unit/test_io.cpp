#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/io/model_file.hpp"
#include "sgnn/io/sha256.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace sgnn;

namespace {
std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
}  // namespace

TEST_CASE("sha256 matches the standard test vector", "[io]") {
    CHECK(io::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("atomic writes replace files and leave no temporaries", "[io]") {
    const std::string dir = "test_io_dir";
    io::make_directories(dir + "/a/b");
    io::write_file_atomically(dir + "/a/b/f.txt", "one");
    io::write_file_atomically(dir + "/a/b/f.txt", "two");
    CHECK(slurp(dir + "/a/b/f.txt") == "two");
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir + "/a/b")) files += entry.is_regular_file();
    CHECK(files == 1);
    CHECK_THROWS_WITH(io::write_file_atomically("/nonexistent-dir/x", "y"),
                      Catch::Matchers::Contains("/nonexistent-dir/x"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("CSV tables write a header and NaN as empty cells", "[io]") {
    io::CsvTable table("test_io.csv", {"step", "loss"});
    table.add_row({1, 0.5});
    table.add_row({2, std::nan("")});
    table.save();
    CHECK(slurp("test_io.csv") == "step,loss\n1,0.5\n2,\n");
    std::filesystem::remove("test_io.csv");
}

TEST_CASE("model files round-trip parameters by name", "[io]") {
    io::ModelFile model;
    model.parameters = {{"head.weight", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"head.bias", {2}, {0.5f, -0.5f}}};
    model.normalization = {{"target_mean", {1}, {3.0f}}};
    model.attributes = {{"format", "sgnn-model"}};
    io::write_model_file("test_model.h5", model);
    const io::ModelFile back = io::read_model_file("test_model.h5");
    REQUIRE(back.parameters.size() == 2);
    CHECK(back.parameters[0].name == "head.bias");  // name order
    CHECK(back.parameters[1].shape == std::vector<std::uint64_t>{2, 3});
    CHECK(back.parameters[1].values == model.parameters[0].values);
    CHECK(back.normalization[0].values[0] == 3.0f);
    std::filesystem::remove("test_model.h5");
    CHECK_THROWS_WITH(io::read_model_file("no_such_model.h5"), Catch::Matchers::Contains("no_such_model.h5"));
}
