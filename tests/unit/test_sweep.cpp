#include "sgnn/error.hpp"
#include "sgnn/sweep/sweep.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace sgnn;
using Catch::Matchers::Contains;

namespace {

// A sweep file beside a base config in a fresh folder; returns the sweep file's path.
std::string write_sweep(const std::string& name, const std::string& text) {
    const std::filesystem::path folder = std::filesystem::path("test_sweep_files") / name;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "base.cfg") << "seed = 3\n[train]\nsteps = 10\n";
    std::ofstream(folder / "grid.sweep") << text;
    return (folder / "grid.sweep").string();
}

std::string error_of(const std::string& path) {
    try {
        sweep::read_sweep_file(path);
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("a sweep's tasks are its grid in row-major order, the last key fastest", "[sweep]") {
    const auto path = write_sweep("order",
                                  "# comment\nconfig = base.cfg\n\n[grid]\ntrain.steps = 10 20 30\nseed = 1 2\n"
                                  "prior.R0 = \"uniform(1.5, 3)\" \"loguniform(1.2, 6)\"\n");
    const auto grid = sweep::read_sweep_file(path);
    REQUIRE(grid.size() == 12);
    CHECK(grid.keys == std::vector<std::string>{"train.steps", "seed", "prior.R0"});
    const auto task5 = grid.task(5);  // strides 4, 2, 1: 5 = 1*4 + 0*2 + 1 -> steps 20, seed 1, loguniform
    CHECK(task5[0].second == "20");
    CHECK(task5[1].second == "1");
    CHECK(task5[2].second == "loguniform(1.2, 6)");
    CHECK(grid.task(0)[2].second == "uniform(1.5, 3)");
    CHECK(grid.task(11)[0].second == "30");
    const auto args = grid.train_args(11);
    CHECK(args == std::vector<std::string>{"--config",
                                           (std::filesystem::path(path).parent_path() / "base.cfg").string(),
                                           "--train.steps", "30", "--seed", "2", "--prior.R0", "loguniform(1.2, 6)"});
}

TEST_CASE("sweep file errors name the file, the line or task, and what is allowed", "[sweep]") {
    CHECK_THAT(error_of("test_sweep_files/none.sweep"), Contains("cannot be read"));
    CHECK_THAT(error_of(write_sweep("noconfig", "[grid]\nseed = 1 2\n")), Contains("no 'config = FILE' line"));
    CHECK_THAT(error_of(write_sweep("badconfig", "config = missing.cfg\n[grid]\nseed = 1\n")),
               Contains("relative to the sweep file's folder"));
    CHECK_THAT(error_of(write_sweep("nogrid", "config = base.cfg\n")), Contains("no [grid] keys"));
    CHECK_THAT(error_of(write_sweep("unknown", "config = base.cfg\n[grid]\ntrain.stepz = 1 2\n")),
               Contains("line 3: 'train.stepz' is not an option"));
    CHECK_THAT(error_of(write_sweep("out", "config = base.cfg\n[grid]\nout = a b\n")),
               Contains("'out' is not an option"));
    CHECK_THAT(error_of(write_sweep("twice", "config = base.cfg\n[grid]\nseed = 1\nseed = 2\n")),
               Contains("seed appears twice"));
    CHECK_THAT(error_of(write_sweep("repeat", "config = base.cfg\n[grid]\nseed = 1 1\n")),
               Contains("lists a value twice"));
    CHECK_THAT(error_of(write_sweep("quote", "config = base.cfg\n[grid]\nprior.R0 = \"uniform(1, 2)\n")),
               Contains("no closing"));
    CHECK_THAT(error_of(write_sweep("section", "config = base.cfg\n[train]\nsteps = 1\n")),
               Contains("unknown section [train]"));
    // A value out of range fails at reading, naming the task and the option's range.
    const std::string bad = error_of(write_sweep("range", "config = base.cfg\n[grid]\ntrain.steps = 10 0\n"));
    CHECK_THAT(bad, Contains("task 1 (train.steps = 0)"));
    CHECK_THAT(bad, Contains("train.steps"));
    CHECK_THAT(bad, Contains("[1,"));
}
