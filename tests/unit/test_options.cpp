#include "sgnn/cli/options.hpp"
#include "sgnn/error.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

using namespace sgnn;
using Catch::Matchers::Contains;

namespace {

cli::RunConfig parse(const std::vector<std::string>& args) {
    return cli::make_run_config(cli::parse_options(args, cli::run_options(), false));
}

std::string write_config(const std::string& text) {
    const std::string path = "test_options_" + std::to_string(std::hash<std::string>{}(text)) + ".cfg";
    std::ofstream(path) << text;
    return path;
}

}  // namespace

TEST_CASE("defaults, config file and command line combine; the command line wins", "[options]") {
    const std::string path = write_config("seed = 9\ntrainers = 2\n[train]\nsteps = 50\nlr = 0.01\n");
    const auto c = parse({"--config", path, "--train.steps", "70", "--deterministic"});
    CHECK(c.seed == 9);
    CHECK(c.trainers == 2);
    CHECK(c.train.steps == 70);
    CHECK(c.train.optimizer.learning_rate == 0.01);
    CHECK(c.deterministic);
    CHECK(c.stream.batch_size == 256);
    CHECK_THAT(c.effective_ini, Contains("[train]\nsteps = 70\n"));
    CHECK_THAT(c.effective_ini, Contains("seed = 9"));
    std::remove(path.c_str());
}

TEST_CASE("the effective configuration reads back to the same run", "[options]") {
    const auto first = parse({"--train.steps", "77", "--prior.R0", "uniform(2, 3)", "--model.type", "cnn"});
    const std::string path = write_config(first.effective_ini);
    const auto second = parse({"--config", path});
    CHECK(second.effective_ini == first.effective_ini);
    std::remove(path.c_str());
}

TEST_CASE("invalid configuration gives one line naming the key", "[options]") {
    const std::string unknown = write_config("[train]\nstepz = 5\n");
    CHECK_THROWS_WITH(parse({"--config", unknown}), Contains("unknown key") && Contains("train.stepz") &&
                                                         Contains(unknown));
    std::remove(unknown.c_str());
    CHECK_THROWS_WITH(parse({"--trainers", "-3"}), Contains("trainers = '-3'") && Contains("[1, 65536]"));
    CHECK_THROWS_WITH(parse({"--stream.batch_size", "0"}), Contains("stream.batch_size"));
    CHECK_THROWS_WITH(parse({"--train.steps", "ten"}), Contains("train.steps") && Contains("integer"));
    CHECK_THROWS_WITH(parse({"--prior.R0", "uniform(2, 2)"}), Contains("prior.R0") && Contains("empty range") &&
                                                                   Contains("command line"));
    CHECK_THROWS_WITH(parse({"--device", "tpu"}), Contains("device") && Contains("cpu, cuda"));
    CHECK_THROWS_WITH(parse({"--no-such-option", "1"}), Contains("unknown option"));
    CHECK_THROWS_WITH(parse({"--config", "/nonexistent/x.cfg"}), Contains("cannot be read"));
    CHECK_THROWS_AS(parse({"--train.lr", "0.001", "--train.lr_min", "0.1"}), ConfigError);
    CHECK_THROWS_AS(parse({"--model.kernel", "4"}), ConfigError);
}

TEST_CASE("help lists every visible option with default and range", "[options]") {
    const std::string help = cli::options_help(cli::run_options());
    CHECK_THAT(help, Contains("--train.steps"));
    CHECK_THAT(help, Contains("Default: 2000"));
    CHECK_THAT(help, Contains("--prior.R0"));
    CHECK_THAT(help, !Contains("debug.fail_rank"));
}
