// Regression tests of the hardening issue (docs/safety.md): child programs without a
// shell, writers that never follow links nor replace what is not a regular file,
// strict numbers, printable errors, directory locks, checksummed model files and
// corpora checked block by block.
#include "mpi.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/directory_lock.hpp"
#include "sgnn/io/model_file.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/io/subprocess.hpp"
#include "sgnn/text.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace sgnn;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A fresh, empty directory for one test case.
std::string scratch(const std::string& name) {
    const std::string dir = "test_safety_" + name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("child programs get their arguments verbatim, never through a shell", "[safety]") {
    const std::string dir = scratch("spawn");
    const std::string hostile = dir + "/x';touch " + dir + "/INJECTED;'";
    const io::ProcessResult echoed = io::run_process({"printf", "%s", hostile}, io::ChildStderr::discard);
    CHECK(echoed.started);
    CHECK(echoed.exit_code == 0);
    CHECK(echoed.output == hostile);
    CHECK_FALSE(fs::exists(dir + "/INJECTED"));
    // A program name with shell syntax is looked up as a name, and is not found.
    const io::ProcessResult missing = io::run_process({"true; touch " + dir + "/INJECTED"}, io::ChildStderr::discard);
    CHECK_FALSE(missing.started);
    CHECK_FALSE(fs::exists(dir + "/INJECTED"));
    CHECK(io::run_process({"sh", "-c", "exit 3"}, io::ChildStderr::merge).exit_code == 3);
    fs::remove_all(dir);
}

TEST_CASE("atomic writes refuse to replace anything but a regular file", "[safety]") {
    const std::string dir = scratch("replace");
    REQUIRE(::mkfifo((dir + "/fifo").c_str(), 0600) == 0);
    CHECK_THROWS_WITH(io::write_file_atomically(dir + "/fifo", "x"), Contains("a FIFO"));
    CHECK(fs::is_fifo(dir + "/fifo"));
    io::write_file_atomically(dir + "/victim", "precious");
    fs::create_symlink("victim", dir + "/link");
    CHECK_THROWS_WITH(io::write_file_atomically(dir + "/link", "x"), Contains("a symbolic link"));
    CHECK(fs::is_symlink(dir + "/link"));
    fs::create_directory(dir + "/folder");
    CHECK_THROWS_WITH(io::write_file_atomically(dir + "/folder", "x"), Contains("a directory"));
    CHECK_THROWS_WITH(io::require_replaceable("/dev/null"), Contains("a character device"));
    CHECK(slurp(dir + "/victim") == "precious");
    // Nothing is left behind by the refusals.
    int entries = 0;
    for (const auto& entry : fs::directory_iterator(dir))
        entries += entry.path().filename().string().find(".tmp.") != std::string::npos;
    CHECK(entries == 0);
    fs::remove_all(dir);
}

TEST_CASE("temporaries are created exclusively and never follow a planted link", "[safety]") {
    const std::string dir = scratch("planted");
    io::write_file_atomically(dir + "/victim", "precious");
    // The name earlier versions used for the temporary, predictable from the pid.
    fs::create_symlink(fs::absolute(dir + "/victim"), dir + "/out.txt.tmp." + std::to_string(::getpid()));
    io::write_file_atomically(dir + "/out.txt", "mine");
    CHECK(slurp(dir + "/victim") == "precious");
    CHECK(slurp(dir + "/out.txt") == "mine");
    CHECK(fs::is_regular_file(fs::symlink_status(dir + "/out.txt")));
    const std::string a = io::create_temporary_beside(dir + "/f"), b = io::create_temporary_beside(dir + "/f");
    CHECK(a != b);
    CHECK(fs::is_regular_file(fs::symlink_status(a)));
    // An ordinary file's permissions (0666 less the umask), not mkstemp's 0600.
    struct stat status {};
    REQUIRE(::stat(a.c_str(), &status) == 0);
    const mode_t mask = ::umask(022);
    ::umask(mask);
    CHECK((status.st_mode & 0777) == (0666 & ~mask));
    fs::remove_all(dir);
}

TEST_CASE("numbers are decimal; hexadecimal, inf, nan and trailing text are refused", "[safety]") {
    double v = 0.0;
    for (const char* good : {"0", "-3", "+2.5", ".5", "5.", "1e6", "2.5E-3"}) {
        INFO(good);
        CHECK(parse_decimal(good, v));
    }
    CHECK((parse_decimal("1e6", v) && v == 1e6));
    for (const char* bad :
         {"", " 1", "1 ", "0x10", "0x1p3", "inf", "nan", "1e", "e5", ".", "1.2.3", "10abc", "1e400"}) {
        INFO(bad);
        CHECK_FALSE(parse_decimal(bad, v));
    }
    CHECK_THROWS_WITH(parse_whole_number("10abc", "--samples", 1, 1e9), Contains("--samples = '10abc'"));
    CHECK_THROWS_AS(parse_whole_number("1e30", "--samples", 1, 1e9), ConfigError);
    CHECK_THROWS_AS(parse_whole_number("-3", "--k", 1, 1e9), ConfigError);
    CHECK(parse_whole_number("1e3", "--k", 1, 1e9) == 1000);
}

TEST_CASE("user text in messages is printable and bounded", "[safety]") {
    CHECK(printable("plain R0 ≥ 1") == "plain R0 ≥ 1");
    CHECK(printable(std::string("a\nb\x01\xff", 5)) == "a\\x0Ab\\x01\\xFF");
    const std::string huge(1 << 20, 'x');
    const std::string shown = printable(huge);
    CHECK(shown.size() < 300);
    CHECK_THAT(shown, Contains("more bytes"));
    CHECK(has_control_character("a\tb"));
    CHECK_FALSE(has_control_character("a b"));
}

TEST_CASE("a directory is locked by one writer at a time", "[safety]") {
    const std::string dir = scratch("lock");
    {
        const io::DirectoryLock first(dir, "--out");
        CHECK_THROWS_WITH(io::DirectoryLock(dir, "--out"),
                          Contains("in use by another sgnn process") && Contains("pid"));
    }
    CHECK_NOTHROW(io::DirectoryLock(dir, "--out"));  // released with its holder
    fs::remove_all(dir);
}

TEST_CASE("model files verify every dataset and attribute checksum", "[safety]") {
    const std::string dir = scratch("model");
    io::ModelFile model;
    model.parameters = {{"head.weight", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"head.bias", {2}, {0.5f, -0.5f}}};
    model.normalization = {{"target_mean", {1}, {3.0f}}};
    model.attributes = {{"format", "sgnn-model"}, {"targets", "log_R0"}};
    io::write_model_file(dir + "/model.h5", model);
    CHECK(io::read_model_file(dir + "/model.h5").parameters.size() == 2);
    const std::string bytes = slurp(dir + "/model.h5");
    // Flip each byte of the value 5.0f (0x40a00000) of head.weight, and the target name.
    const std::string five("\x00\x00\xa0\x40", 4);
    const auto at = bytes.find(five);
    REQUIRE(at != std::string::npos);
    // The whole file's checksum in the user block catches any change before HDF5 reads it.
    REQUIRE(bytes.rfind("sgnn-model-sha256 " + io::sha256_hex(bytes.substr(512)), 0) == 0);
    std::string damaged = bytes;
    damaged[at + 2] = static_cast<char>(damaged[at + 2] ^ 0x01);
    std::ofstream(dir + "/damaged.h5", std::ios::binary) << damaged;
    CHECK_THROWS_WITH(io::read_model_file(dir + "/damaged.h5"), Contains("checksum does not match its content"));
    // Sealed again (as a forger would), the dataset's own checksum still catches it.
    const auto reseal = [](std::string b) {
        const std::string seal = "sgnn-model-sha256 " + io::sha256_hex(b.substr(512));
        std::copy(seal.begin(), seal.end(), b.begin());
        return b;
    };
    std::ofstream(dir + "/resealed.h5", std::ios::binary) << reseal(damaged);
    CHECK_THROWS_WITH(io::read_model_file(dir + "/resealed.h5"), Contains("checksum mismatch"));
    const auto name = bytes.find("log_R0");
    REQUIRE(name != std::string::npos);
    damaged = bytes;
    damaged[name] = 'L';
    std::ofstream(dir + "/renamed.h5", std::ios::binary) << reseal(damaged);
    CHECK_THROWS_WITH(io::read_model_file(dir + "/renamed.h5"), Contains("attribute checksum mismatch"));
    fs::remove_all(dir);
}

TEST_CASE("corpus reads verify the blocks they cover and name the damaged rows", "[safety]") {
    ensure_mpi();
    const std::string dir = scratch("corpus");
    const std::string path = dir + "/corpus.h5";
    const std::uint64_t rows = 10000, width = 3;  // three blocks of 4096 rows, the last shorter
    std::vector<float> values(rows * width);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) + 0.5f;
    {
        io::CorpusWriter writer(MPI_COMM_SELF, path, rows, {{"x", io::ElementType::f32, width}});
        writer.write_rows(0, rows, {values.data()});
        writer.commit({{"format", "sgnn-test"}}, {});
    }
    const io::Dataset middle = io::read_rows(path, "x", io::ElementType::f32, width, 4000, 300);
    CHECK(middle.shape == std::vector<std::uint64_t>{300, width});
    CHECK(middle.as<float>().front() == values[4000 * width]);
    CHECK(middle.as<float>().back() == values[4300 * width - 1]);
    CHECK_THROWS_WITH(io::read_rows(path, "x", io::ElementType::f64, width, 0, 1), Contains("is not float64"));
    CHECK_THROWS_WITH(io::read_rows(path, "x", io::ElementType::f32, width + 1, 0, 1), Contains("shape"));
    CHECK_THROWS_WITH(io::read_rows(path, "x", io::ElementType::f32, width, 9999, 2), Contains("10000 rows"));
    // One byte of row 9000 (the third block): the first blocks still read, the third names its rows.
    std::string bytes = slurp(path);
    const float target = values[9000 * width];
    const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&target), sizeof target));
    REQUIRE(at != std::string::npos);
    bytes[at] = static_cast<char>(bytes[at] ^ 0x40);
    std::ofstream(dir + "/damaged.h5", std::ios::binary) << bytes;
    CHECK_NOTHROW(io::read_rows(dir + "/damaged.h5", "x", io::ElementType::f32, width, 0, 8192));
    CHECK_THROWS_WITH(io::read_rows(dir + "/damaged.h5", "x", io::ElementType::f32, width, 8000, 500),
                      Contains("checksum mismatch in rows 8192..9999"));
    fs::remove_all(dir);
}
