#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/checkpoint/files.hpp"
#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/io/file_seal.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/sim/random.hpp"
#include "sgnn/stream/resume.hpp"

#include "mpi.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

using namespace sgnn;
using Catch::Matchers::Contains;

TEST_CASE("consumed batches keep a watermark and the few above it", "[checkpoint]") {
    stream::ConsumedBatches consumed;
    for (std::uint64_t k : {0, 1, 3, 4, 7}) consumed.mark(k);
    CHECK(consumed.watermark() == 2);
    CHECK(consumed.above() == std::vector<std::uint64_t>{3, 4, 7});
    consumed.mark(2);  // fills the gap: the watermark moves past 3 and 4
    CHECK(consumed.watermark() == 5);
    CHECK(consumed.above() == std::vector<std::uint64_t>{7});
    CHECK(consumed.contains(4));
    CHECK_FALSE(consumed.contains(5));
}

TEST_CASE("a resume point gives each feeder exactly the batches still needed", "[checkpoint]") {
    const stream::ResumePoint point{5, {6, 9, 10}};
    CHECK(point.next_needed(0, 0, 2) == 8);  // 6 skipped
    CHECK(point.next_needed(0, 1, 2) == 5);
    CHECK(point.next_needed(6, 1, 2) == 7);
    CHECK(point.next_needed(8, 1, 2) == 11);  // 9 skipped
    // Whatever the number of feeders, their batches partition what is needed.
    for (int feeders = 1; feeders <= 5; ++feeders) {
        std::set<std::uint64_t> made;
        for (int slot = 0; slot < feeders; ++slot) {
            for (std::uint64_t k = point.next_needed(0, slot, feeders); k < 40;
                 k = point.next_needed(k + 1, slot, feeders)) {
                CHECK(made.insert(k).second);
            }
        }
        std::set<std::uint64_t> needed;
        for (std::uint64_t k = 5; k < 40; ++k) {
            if (k != 6 && k != 9 && k != 10) needed.insert(k);
        }
        CHECK(made == needed);
    }
}

TEST_CASE("collectively written HDF5 files round-trip datasets and catch damage", "[checkpoint]") {
    ensure_mpi();
    const std::string dir = "test_checkpoint_dir";
    std::filesystem::remove_all(dir);
    io::make_directories(dir);
    const std::string path = dir + "/file.h5";
    const std::vector<float> weights = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
    io::write_datasets_collectively(
        MPI_COMM_SELF, path,
        {io::make_dataset("model/w", weights, {2, 3}), io::make_dataset<std::int64_t>("train/step", {42}),
         io::make_dataset<std::uint64_t>("stream/empty", {}), io::make_text_dataset("config", "seed = 7\n")},
        {{"format", "test"}});
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
    {
        const io::DatasetReader reader(path);
        CHECK(reader.attribute("format") == "test");
        const io::Dataset w = reader.read("model/w");
        CHECK(w.shape == std::vector<std::uint64_t>{2, 3});
        CHECK(w.as<float>() == weights);
        CHECK(reader.read("train/step").as<std::int64_t>() == std::vector<std::int64_t>{42});
        CHECK(reader.read("stream/empty").element_count() == 0);
        CHECK(reader.read("config").text() == "seed = 7\n");
        CHECK(reader.dataset_paths("model") == std::vector<std::string>{"model/w"});
        CHECK_NOTHROW(reader.verify_all());
        CHECK_THROWS_WITH(reader.read("model/missing"), Contains("missing dataset model/missing"));
    }
    // One flipped bit in the weights' bytes: the whole file's seal refuses it before HDF5
    // reads it; sealed again (as a forger would), the read names the dataset.
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const float needle = 3.25f;
    const std::size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&needle), sizeof needle));
    REQUIRE(at != std::string::npos);
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 1);
    io::write_file_atomically(dir + "/damaged.h5", damaged);
    CHECK_THROWS_WITH(io::DatasetReader(dir + "/damaged.h5"), Contains("damaged.h5") && Contains("damaged"));
    io::seal_file(dir + "/damaged.h5", io::kDatasetsSeal, "damaged.h5");
    CHECK_THROWS_WITH(io::DatasetReader(dir + "/damaged.h5").verify_all(), Contains("model/w") && Contains("checksum"));
    io::write_file_atomically(dir + "/truncated.h5", bytes.substr(0, bytes.size() / 2));
    CHECK_THROWS_WITH(io::DatasetReader(dir + "/truncated.h5").verify_all(), Contains("truncated.h5"));
    io::write_file_atomically(dir + "/text.h5", "not hdf5");
    CHECK_THROWS_WITH(io::DatasetReader(dir + "/text.h5"), Contains("not an HDF5 file"));
    // A write into a directory that does not exist fails cleanly, leaving nothing.
    CHECK_THROWS_WITH(io::write_datasets_collectively(MPI_COMM_SELF, dir + "/no/such/dir.h5",
                                                      {io::make_dataset<double>("x", {1.0})}, {}),
                      Contains("no/such/dir.h5"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("checkpoints are listed by step, pruned to the newest and found from a run directory", "[checkpoint]") {
    const std::string run = "test_checkpoint_run";
    std::filesystem::remove_all(run);
    io::make_directories(checkpoint::checkpoint_directory(run));
    for (int step : {100, 20, 300}) io::write_file_atomically(checkpoint::checkpoint_path(run, step), "x");
    io::write_file_atomically(checkpoint::checkpoint_directory(run) + "/step-00000400.h5.tmp", "partial");
    const auto listed = checkpoint::list_checkpoints(checkpoint::checkpoint_directory(run));
    REQUIRE(listed.size() == 3);
    CHECK(listed.back() == checkpoint::checkpoint_path(run, 300));
    CHECK(checkpoint::resolve_resume_path(run) == checkpoint::checkpoint_path(run, 300));
    CHECK(checkpoint::run_directory_of(checkpoint::checkpoint_path(run, 300)) == run);
    checkpoint::prune_checkpoints(checkpoint::checkpoint_directory(run), 2, "");  // none of them names a run
    CHECK(checkpoint::list_checkpoints(checkpoint::checkpoint_directory(run)) ==
          std::vector<std::string>{checkpoint::checkpoint_path(run, 100), checkpoint::checkpoint_path(run, 300)});
    CHECK_THROWS_AS(checkpoint::resolve_resume_path(run + "/nothing-here"), ConfigError);
    std::filesystem::remove_all(run);
}

TEST_CASE("a resume refuses settings that change what the checkpoint means", "[checkpoint]") {
    const std::string before = "seed = 7\ntrainers = 2\n[model]\nhidden = 32\n[train]\nsteps = 300\nthreads = 1\n";
    CHECK_NOTHROW(config::require_same_settings(
        "c.h5", before, "seed = 7\ntrainers = 3\n[model]\nhidden = 32\n[train]\nsteps = 900\nthreads = 4\n",
        run::defines_the_run, ""));
    CHECK_THROWS_WITH(
        config::require_same_settings("c.h5", before, "seed = 7\n[model]\nhidden = 64\n[train]\nsteps = 300\n",
                                      run::defines_the_run, ""),
        Contains("c.h5") && Contains("model.hidden is '32' in the file but '64' now"));
    // A corpus fixes the samples only: another network is fine, another prior is not.
    const std::string corpus = "seed = 7\n[sim]\nmodel = sir\nthreads = 1\n[prior]\nR0 = uniform(1, 2)\n";
    CHECK_NOTHROW(config::require_same_settings(
        "data", corpus, "seed = 9\n[sim]\nmodel = sir\nthreads = 4\n[prior]\nR0 = uniform(1, 2)\n[model]\nhidden = 8\n",
        run::defines_the_samples, ""));
    CHECK_THROWS_WITH(config::require_same_settings("data", corpus, "[sim]\nmodel = sir\n[prior]\nR0 = uniform(1, 3)\n",
                                                    run::defines_the_samples, ""),
                      Contains("prior.R0"));
}

TEST_CASE("CSV tables restore the rows of an earlier run", "[checkpoint]") {
    io::CsvTable table("unused.csv", {"step", "loss"});
    table.restore("step,loss\n100,0.5\n");
    table.add_row({200, 0.25});
    CHECK(table.text() == "step,loss\n100,0.5\n200,0.25\n");
    CHECK_THROWS(table.restore("step,accuracy\n1,2\n"));
}

TEST_CASE("bootstrap intervals cover the mean with the width the standard error implies", "[bootstrap]") {
    // 400 values of a known spread: the 95% interval of their mean should be close to
    // +-1.96 standard errors (within 20%: 1000 resamples put about 5% noise on its ends).
    std::vector<double> values(400);
    sim::SampleStream rng(3, sim::Purpose::test, 99);
    for (double& v : values) v = 10.0 + 2.0 * rng.normal();
    double mean = 0, var = 0;
    for (double v : values) mean += v / 400.0;
    for (double v : values) var += (v - mean) * (v - mean) / 399.0;
    const double se = std::sqrt(var / 400.0);
    const analysis::Interval i = analysis::bootstrap(
        values.size(), 1000, 7, [&](const std::vector<std::size_t>& s) { return analysis::mean_over(values, s); });
    CHECK(i.estimate == Approx(mean));
    CHECK(i.low < mean);
    CHECK(i.high > mean);
    CHECK((i.high - i.low) / (2 * 1.96 * se) == Approx(1.0).epsilon(0.2));
    // Reproducible: the same seed gives the same interval.
    const analysis::Interval again = analysis::bootstrap(
        values.size(), 1000, 7, [&](const std::vector<std::size_t>& s) { return analysis::mean_over(values, s); });
    CHECK(again.low == i.low);
    CHECK(again.high == i.high);
}
