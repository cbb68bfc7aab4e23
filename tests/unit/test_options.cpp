#include "sgnn/coord/schedule.hpp"
#include "sgnn/error.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/simulator_worker.hpp"
#include "sgnn/train/config.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

using namespace sgnn;
using Catch::Matchers::Contains;

namespace {

run::RunConfig parse(const std::vector<std::string>& args) {
    return run::make_run_config(config::parse_options(args, run::run_options()));
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
    CHECK_THROWS_WITH(parse({"--config", unknown}),
                      Contains("unknown key") && Contains("train.stepz") && Contains(unknown));
    std::remove(unknown.c_str());
    CHECK_THROWS_WITH(parse({"--trainers", "-3"}), Contains("trainers = '-3'") && Contains("[1, 65536]"));
    CHECK_THROWS_WITH(parse({"--stream.batch_size", "0"}), Contains("stream.batch_size"));
    CHECK_THROWS_WITH(parse({"--train.steps", "ten"}), Contains("train.steps") && Contains("integer"));
    CHECK_THROWS_WITH(parse({"--prior.R0", "uniform(2, 2)"}),
                      Contains("prior.R0") && Contains("empty range") && Contains("command line"));
    CHECK_THROWS_WITH(parse({"--device", "tpu"}), Contains("device") && Contains("cpu, cuda"));
    CHECK_THROWS_WITH(parse({"--no-such-option", "1"}), Contains("unknown option"));
    CHECK_THROWS_WITH(parse({"--config", "/nonexistent/x.cfg"}), Contains("cannot be read"));
    CHECK_THROWS_AS(parse({"--train.lr", "0.001", "--train.lr_min", "0.1"}), ConfigError);
    CHECK_THROWS_AS(parse({"--model.kernel", "4"}), ConfigError);
}

TEST_CASE("bad parameter priors name the key, the range and the simulator or step using them", "[options]") {
    CHECK_THROWS_WITH(parse({"--prior.reporting_rate", "uniform(0.5, 1.5)"}),
                      Contains("prior.reporting_rate") && Contains("(0, 1]") && Contains("observation step report"));
    CHECK_THROWS_WITH(parse({"--sim.model", "seir", "--prior.latent_period", "uniform(-2, 3)"}),
                      Contains("prior.latent_period") && Contains("simulator seir"));
    CHECK_THROWS_WITH(parse({"--sim.model", "mixture", "--sim.mixture", "sir:1,seir_ode:1", "--prior.R0", "fixed(-1)"}),
                      Contains("prior.R0") && Contains("simulator sir, seir_ode"));
    CHECK_THROWS_WITH(parse({"--sim.model", "mixture", "--sim.mixture", "sir:1,nope:1"}),
                      Contains("sim.mixture") && Contains("nope"));
    CHECK_THROWS_WITH(parse({"--sim.model", "mixture", "--sim.mixture", "sir:1,seir:-1"}), Contains("sim.mixture"));
    CHECK_THROWS_WITH(parse({"--ode.rtol", "2"}), Contains("ode.rtol"));
    CHECK_THROWS_WITH(parse({"--ode.method", "euler"}), Contains("ode.method") && Contains("rk5dp"));
}

TEST_CASE("PETSc options on the command line are collected into ode.petsc_options", "[options]") {
    const auto options = config::parse_options(
        {"--train.steps", "5", "-ts_rk_type", "5bs", "-ts_monitor", "-ts_rtol", "-1e-3"}, run::run_options());
    CHECK(options.values.at("ode.petsc_options") == "-ts_rk_type 5bs -ts_monitor -ts_rtol -1e-3");
    CHECK(options.origin.at("ode.petsc_options") == "command line");
    CHECK(options.values.at("train.steps") == "5");
}

TEST_CASE("help lists every visible option with default and range", "[options]") {
    const std::string help = config::options_help(run::run_options());
    CHECK_THAT(help, Contains("--train.steps"));
    CHECK_THAT(help, Contains("Default: 2000"));
    CHECK_THAT(help, Contains("--prior.R0"));
    CHECK_THAT(help, !Contains("debug.fail_rank"));
}

TEST_CASE("every option's default is its config struct's default member", "[options]") {
    // The modules declare their options with defaults taken from their structs, so a run
    // with no options set is the structs as they are default-constructed.
    const run::RunConfig c = parse({});
    const sim::TaskConfig task;
    const stream::StreamConfig stream;
    const train::TrainConfig train;
    const coord::ScheduleConfig schedule;
    const run::RunConfig run;
    CHECK(c.task.model == task.model);
    CHECK(c.task.days == task.days);
    CHECK(c.task.targets == task.targets);
    CHECK(c.task.observation == task.observation);
    CHECK(c.task.max_ssa_events == task.max_ssa_events);
    CHECK(c.task.options.contact_matrix == task.options.contact_matrix);
    CHECK(c.task.options.group_shares == task.options.group_shares);
    CHECK(c.task.options.ode.rtol == task.options.ode.rtol);
    CHECK(c.stream.batch_size == stream.batch_size);
    CHECK(c.stream.credits == stream.credits);
    CHECK(c.stream.max_dropped_fraction == stream.max_dropped_fraction);
    CHECK(c.train.model.channels == train.model.channels);  // the table once said 16, the struct 32
    CHECK(c.train.model.hidden == train.model.hidden);
    CHECK(c.train.optimizer.learning_rate == train.optimizer.learning_rate);
    CHECK(c.train.optimizer.min_learning_rate == train.optimizer.min_learning_rate);
    CHECK(c.train.eval_samples == train.eval_samples);
    CHECK(c.schedule.start_width == schedule.start_width);
    CHECK(c.checkpoint_minutes == run.checkpoint_minutes);
    CHECK(c.progress_interval == run.progress_interval);
    CHECK(c.train.device == run.train.device);
}

TEST_CASE("a struct's default is written as people write it", "[options]") {
    CHECK(config::default_text(1e7) == "1e7");
    CHECK(config::default_text(1e-8) == "1e-08");
    CHECK(config::default_text(0.001) == "0.001");
    CHECK(config::default_text(std::vector<double>{0.25, 0.55, 0.2}) == "0.25,0.55,0.2");
    CHECK(config::default_text(std::vector<std::string>{"report", "negbin"}) == "report,negbin");
    CHECK(config::default_text(false) == "false");
}

TEST_CASE("a command's flags are taken out of its arguments, the rest left in order", "[options]") {
    using Type = config::OptionSpec::Type;
    const std::vector<config::OptionSpec> flags = {
        {"samples", Type::integer, "", "samples", 1, 1e12},
        {"out", Type::text, "corpus.h5", "the file"},
        {"json", Type::boolean, "false", "JSON"},
    };
    std::vector<std::string> args = {"--config", "a.cfg",  "--samples=1e5", "--sim.days",
                                     "30",       "--json", "--train.steps", "7"};
    const config::CommandFlags taken(args, flags);
    CHECK(args == std::vector<std::string>{"--config", "a.cfg", "--sim.days", "30", "--train.steps", "7"});
    CHECK(taken.given("samples"));
    CHECK(taken.integer("samples") == 100000);
    CHECK_FALSE(taken.given("out"));
    CHECK(taken.text("out") == "corpus.h5");
    CHECK(taken.boolean("json"));
    // The rest parses against the run's options as before.
    CHECK(parse(std::vector<std::string>(args.begin() + 2, args.end())).task.days == 30);

    std::vector<std::string> bad = {"--samples", "10abc"};
    const config::CommandFlags bad_flags(bad, flags);
    CHECK_THROWS_WITH(bad_flags.integer("samples"), "--samples = '10abc': must be an integer in [1, 1e12]");
    std::vector<std::string> missing = {"--samples"};
    CHECK_THROWS_AS(config::CommandFlags(missing, flags), ConfigError);
    std::vector<std::string> guessed = {"--sam", "5"};  // no abbreviations: left for the run's options to refuse
    const config::CommandFlags unguessed(guessed, flags);
    CHECK_FALSE(unguessed.given("samples"));
    CHECK(guessed.size() == 2);
}
