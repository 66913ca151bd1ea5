#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace factoryops::core::metrics {
namespace {

TEST(Metrics, ExposesASmallRegistryExactly) {
  Registry registry;
  auto& requests = registry.counter("http_requests_total", "Requests served.", {"method", "code"});
  requests.labels({"GET", "200"}).inc();
  requests.labels({"GET", "200"}).inc(2);
  requests.labels({"POST", "500"}).inc();
  registry.gauge("queue_depth", "Jobs waiting.").labels({}).set(7.5);
  auto& latency = registry.histogram("latency_seconds", "Latency.", {"route"}, {0.1, 0.5, 1});
  auto& health = latency.labels({"/health"});
  health.observe(0.05);
  health.observe(0.1);
  health.observe(0.7);
  health.observe(3);

  EXPECT_EQ(registry.expose(),
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "http_requests_total{method=\"POST\",code=\"500\"} 1\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{route=\"/health\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{route=\"/health\",le=\"0.5\"} 2\n"
            "latency_seconds_bucket{route=\"/health\",le=\"1\"} 3\n"
            "latency_seconds_bucket{route=\"/health\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{route=\"/health\"} 3.85\n"
            "latency_seconds_count{route=\"/health\"} 4\n"
            "# HELP queue_depth Jobs waiting.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth 7.5\n");
}

TEST(Metrics, UnlabelledFamiliesShowZeroBeforeFirstUse) {
  Registry registry;
  registry.counter("events_total", "Events.");
  registry.histogram("wait_seconds", "Wait.", {}, {1});
  EXPECT_EQ(registry.expose(),
            "# HELP events_total Events.\n"
            "# TYPE events_total counter\n"
            "events_total 0\n"
            "# HELP wait_seconds Wait.\n"
            "# TYPE wait_seconds histogram\n"
            "wait_seconds_bucket{le=\"1\"} 0\n"
            "wait_seconds_bucket{le=\"+Inf\"} 0\n"
            "wait_seconds_sum 0\n"
            "wait_seconds_count 0\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.counter("odd_total", "Line one\nback\\slash", {"path"}).labels({"a\"b\\c\nd"}).inc();
  EXPECT_EQ(registry.expose(),
            "# HELP odd_total Line one\\nback\\\\slash\n"
            "# TYPE odd_total counter\n"
            "odd_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, HistogramBucketsAreInclusiveUpperBounds) {
  Histogram histogram({1, 2, 5});
  for (double v : {0.0, 1.0, 1.0001, 2.0, 4.9, 5.0, 5.1, -3.0}) histogram.observe(v);
  auto snap = histogram.snapshot();
  ASSERT_EQ(snap.cumulative.size(), 4u);
  EXPECT_EQ(snap.cumulative[0], 3u);  // 0, 1, -3
  EXPECT_EQ(snap.cumulative[1], 5u);  // + 1.0001, 2
  EXPECT_EQ(snap.cumulative[2], 7u);  // + 4.9, 5
  EXPECT_EQ(snap.cumulative[3], 8u);  // + 5.1
  EXPECT_EQ(snap.count, 8u);
  EXPECT_DOUBLE_EQ(snap.sum, 0 + 1 + 1.0001 + 2 + 4.9 + 5 + 5.1 - 3);
}

TEST(Metrics, RejectsBadDefinitions) {
  Registry registry;
  EXPECT_THROW(registry.counter("1bad", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "x", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "x", {"le"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2", "x", {}, {2, 1}), std::invalid_argument);
  registry.counter("c_total", "x", {"a"});
  EXPECT_NO_THROW(registry.counter("c_total", "x", {"a"}));
  EXPECT_THROW(registry.gauge("c_total", "x", {"a"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("c_total", "x", {"b"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("c_total", "x", {"a"}).labels({"1", "2"}), std::invalid_argument);
}

TEST(Metrics, LabelsReturnsAStableReference) {
  Registry registry;
  auto& family = registry.counter("stable_total", "x", {"k"});
  Counter& first = family.labels({"a"});
  for (int i = 0; i < 100; ++i) family.labels({std::to_string(i)});
  EXPECT_EQ(&first, &family.labels({"a"}));
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry registry;
  auto& family = registry.counter("hits_total", "x", {"worker"});
  auto& histogram = registry.histogram("obs", "x", {}, {1}).labels({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        family.labels({"shared"}).inc();
        histogram.observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.labels({"shared"}).value(), 40000);
  EXPECT_EQ(histogram.snapshot().count, 40000u);
}

TEST(Metrics, ProcessMetricsAreReadFromProc) {
  auto text = process_metrics();
  for (const char* name :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_virtual_memory_bytes ",
        "process_open_fds ", "process_max_fds ", "process_start_time_seconds "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name;
  }
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
}

}  // namespace
}  // namespace factoryops::core::metrics
