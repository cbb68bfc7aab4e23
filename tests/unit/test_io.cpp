#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/io/model_file.hpp"
#include "sgnn/io/observation_csv.hpp"
#include "sgnn/io/sha256.hpp"

#include "sgnn/error.hpp"

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

namespace {
// Writes `text` to a scratch CSV and returns its path.
std::string scratch_csv(const std::string& name, const std::string& text) {
    const std::string path = "test_io_" + name + ".csv";
    std::ofstream(path) << text;
    return path;
}
}  // namespace

TEST_CASE("observed series are read from wide and long CSVs with dates, gaps and ragged ends", "[io][observed]") {
    // Wide: one series per column; each starts at its first value and ends at its last.
    const std::string wide = scratch_csv("wide",
                                         "\xEF\xBB\xBF"
                                         "Dates,school,city\r\n2009-04-27,,5\r\n2009-04-28,1,NA\r\n"
                                         "2009-04-29,2,7\r\n2009-04-30,3,\r\n");
    const auto w = io::read_observed_series(wide, 1);
    REQUIRE(w.size() == 2);
    CHECK(w[0].name == "school");
    CHECK(w[0].length == 3);
    CHECK(w[0].values == std::vector<double>{1, 2, 3});
    CHECK(w[0].first_date == "2009-04-28");
    CHECK(*w[0].first_day == *io::parse_iso_date("2009-04-27") + 1);
    CHECK(w[1].length == 3);  // 5, missing, 7: the empty last cell is past its end
    CHECK(std::isnan(w[1].values[1]));
    // Long: rows of several series in any order; a gap in dates leaves missing days.
    const std::string long_form =
        scratch_csv("long", "series,date,cases\nb,2020-02-01,4\na,2020-01-30,3\nb,2020-02-02,6\na,2020-02-02,1\n");
    const auto l = io::read_observed_series(long_form, 1);
    REQUIRE(l.size() == 2);
    CHECK(l[0].name == "b");
    CHECK(l[1].name == "a");
    REQUIRE(l[1].length == 4);  // Jan 30, 31 (missing), Feb 1 (missing), Feb 2
    CHECK(l[1].values[0] == 3);
    CHECK(std::isnan(l[1].values[1]));
    CHECK(std::isnan(l[1].values[2]));
    CHECK(l[1].values[3] == 1);
    // A model with two channels reads two columns as one series named after the file.
    const auto two = io::read_observed_series(scratch_csv("two", "t,prey,predators\n0,30,5\n1,31,6\n"), 2);
    REQUIRE(two.size() == 1);
    CHECK(two[0].name == "test_io_two");
    CHECK(two[0].values == std::vector<double>{30, 31, 5, 6});
    CHECK_FALSE(two[0].first_day.has_value());
    // Dates: 1970-01-01 is day 0; 2009-04-27 was a Monday (day 0 a Thursday).
    CHECK(*io::parse_iso_date("1970-01-01") == 0);
    CHECK(*io::parse_iso_date("2000-03-01") == 11017);
    CHECK((*io::parse_iso_date("2009-04-27") + 3) % 7 == 0);
    CHECK_FALSE(io::parse_iso_date("2009-02-29").has_value());
    CHECK(io::parse_iso_date("2008-02-29").has_value());
    CHECK_FALSE(io::parse_iso_date("27/04/2009").has_value());
    for (const char* name : {"wide", "long", "two"}) std::filesystem::remove(std::string("test_io_") + name + ".csv");
}

TEST_CASE("bad observed series name the file, the row and what to fix", "[io][observed]") {
    using Catch::Matchers::Contains;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "empty file"},
        {"date,cases\n", "no data rows"},
        {"date,cases\n2020-01-02,1\n2020-01-01,2\n", "row 2: date 2020-01-01 is earlier than 2020-01-02"},
        {"date,cases\n2020-01-01,1\n2020-01-01,2\n", "row 2: date 2020-01-01 is duplicated (row 1)"},
        {"day,cases\n1,3\n2,abc\n", "row 2: column 'cases': 'abc' is not a decimal number"},
        {"date,cases\n2020-02-30,1\n", "is not a date written YYYY-MM-DD"},
        {"series,cases\na,1\n", "needs a time column"},
        {"day,t,cases\n1,1,1\n", "two time columns"},
        {"day\n1\n", "no column of counts"},
        {"day,a,b\n1,1,2,3\n", "4 cells for 3 columns"},
        {"day,a\n1,\n", "column 'a' holds no values"},
    };
    for (const auto& [text, message] : cases) {
        const std::string path = scratch_csv("bad", text);
        INFO(text);
        CHECK_THROWS_AS(io::read_observed_series(path, 1), ConfigError);
        CHECK_THROWS_WITH(io::read_observed_series(path, 1), Contains("test_io_bad.csv") && Contains(message));
    }
    CHECK_THROWS_WITH(io::read_observed_series(scratch_csv("bad", "day,a\n1,1\n"), 2), Contains("model sees 2"));
    std::filesystem::remove("test_io_bad.csv");
}
